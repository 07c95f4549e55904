-- API tokens become owned by users (issue 23): an owned token acts with its owner's role, and
-- stops working when its owner is disabled. Tokens made before, and by `siaran token create`,
-- have no owner and keep the role they were made with; a role may now be 'contributor'.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check
    CHECK (role IN ('admin', 'editor', 'contributor'));
ALTER TABLE api_tokens ADD COLUMN user_id TEXT REFERENCES users (id);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

-- The audit trail names the user behind a change (signed in, or owning the token used), and
-- records changes to users themselves.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_entity_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_entity_check
    CHECK (entity IN ('show', 'episode', 'document', 'user'));
ALTER TABLE audit_log ADD COLUMN user_id TEXT;
