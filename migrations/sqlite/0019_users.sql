-- The studio's people (issue 23): users, their roles per show, one-time links to set a
-- password, sessions and failed logins. Emails are stored lower-cased, so that uniqueness is
-- case-insensitive on both databases. A password is an Argon2id PHC string; NULL until the user
-- sets one through a link.
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'contributor')),
    password_hash  TEXT,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

-- A user's role on one show, in place of its own role there ('none': no access to that show).
-- An admin is admin on every show.
CREATE TABLE user_show_roles (
    user_id  TEXT NOT NULL REFERENCES users (id),
    show_id  TEXT NOT NULL REFERENCES shows (id),
    role     TEXT NOT NULL CHECK (role IN ('editor', 'contributor', 'none')),
    PRIMARY KEY (user_id, show_id)
);

-- One-time links to set a password (the SHA-256 of their secret), valid until `expires_at`.
CREATE TABLE password_links (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    expires_at  BIGINT NOT NULL
);
CREATE INDEX password_links_by_user ON password_links (user_id);

-- The studio's sessions, any instance serving any of them. Keyed by the SHA-256 of the session
-- id (a database that leaks does not leak live sessions); the signed-in user beside the data, so
-- that disabling a user or resetting its password ends its sessions at once.
CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    user_id     TEXT REFERENCES users (id),
    data        TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Failed logins, by the account tried (the lower-cased email, known or not) and the address it
-- came from: counted in the database, so throttling holds across instances. Those older than
-- the window are deleted as logins come (by time: the last index).
CREATE TABLE login_failures (
    id       TEXT PRIMARY KEY,
    account  TEXT NOT NULL,
    address  TEXT NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX login_failures_by_account ON login_failures (account, at);
CREATE INDEX login_failures_by_address ON login_failures (address, at);
CREATE INDEX login_failures_by_time ON login_failures (at);
