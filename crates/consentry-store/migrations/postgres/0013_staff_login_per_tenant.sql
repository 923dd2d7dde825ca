-- Staff sign-in addresses are unique per tenant, no longer across the service: a tenant's
-- admin adding an address that is staff in another tenant must succeed exactly as any
-- other, or the answer would tell them the address is staff elsewhere. The sign-in names
-- its tenant (docs/webapp.md), so (tenant_id, login_index) is what identifies a user.
ALTER TABLE users DROP CONSTRAINT users_login_index_key;
ALTER TABLE users ADD CONSTRAINT users_tenant_login_index_key UNIQUE (tenant_id, login_index);
