-- The audit trail: every change to a show, episode or document, who made it (the token's id
-- and name, never its secret), when, and what changed (JSON: {"field": {"from": .., "to": ..}}).
-- Rows are only ever added.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    entity      TEXT NOT NULL CHECK (entity IN ('show', 'episode', 'document')),
    entity_id   TEXT NOT NULL,
    action      TEXT NOT NULL,
    token_id    TEXT,
    token_name  TEXT,
    at          BIGINT NOT NULL,
    changes     TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, at);
