-- API tokens become owned by users (issue 23): an owned token acts with its owner's role, and
-- stops working when its owner is disabled. Tokens made before, and by `siaran token create`,
-- have no owner and keep the role they were made with; a role may now be 'contributor'.
-- SQLite cannot change a CHECK constraint: the table is made again, its rows copied (no table
-- references it).
CREATE TABLE api_tokens_new (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'contributor')),
    token_hash  TEXT NOT NULL UNIQUE,
    user_id     TEXT REFERENCES users (id),
    created_at  BIGINT NOT NULL
);
INSERT INTO api_tokens_new (id, name, role, token_hash, user_id, created_at)
    SELECT id, name, role, token_hash, NULL, created_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

-- The audit trail names the user behind a change (signed in, or owning the token used), and
-- records changes to users themselves.
CREATE TABLE audit_log_new (
    id          TEXT PRIMARY KEY,
    entity      TEXT NOT NULL CHECK (entity IN ('show', 'episode', 'document', 'user')),
    entity_id   TEXT NOT NULL,
    action      TEXT NOT NULL,
    token_id    TEXT,
    token_name  TEXT,
    at          BIGINT NOT NULL,
    changes     TEXT NOT NULL,
    user_id     TEXT
);
INSERT INTO audit_log_new (id, entity, entity_id, action, token_id, token_name, at, changes)
    SELECT id, entity, entity_id, action, token_id, token_name, at, changes FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, at);
