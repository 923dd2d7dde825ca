-- Password reset links of the staff web application (issue 16, item 7): one row a link
-- e-mailed to a user who asked for it. The token is a 256-bit random value stored only as
-- its SHA-256; the user's address is not stored (the e-mail went to the address typed,
-- which the users table knows only as a keyed index). A link works once, until
-- expires_at, and only while it is the user's newest: asking again sets replaced_at on the
-- older ones, and a successful reset sets used_at on its own and replaced_at on the rest.
CREATE TABLE staff_password_resets (
    token_hash  BLOB PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    replaced_at INTEGER
);
CREATE INDEX staff_password_resets_by_user ON staff_password_resets (user_id);
CREATE INDEX staff_password_resets_by_expiry ON staff_password_resets (expires_at);
