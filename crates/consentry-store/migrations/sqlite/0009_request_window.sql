-- The length of a request's response window, kept so that a resend (a new link) restarts
-- the window at its original length however many times it is resent. Rows from before
-- this migration have not been resent more than once, or were resent from their original
-- window: their current length is the best value there is.
ALTER TABLE consent_requests ADD COLUMN response_ms INTEGER;
UPDATE consent_requests SET response_ms = expires_at - created_at;
