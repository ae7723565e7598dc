-- Each site's spam model, learned from its moderators' decisions (see
-- scoring/ and service/scoring.rs). `model` is the versioned binary form
-- in base64; `version` rises with every save (a save names the version it
-- read, so two trainers never overwrite each other); `trained_through` is
-- the last audit entry learned from.
CREATE TABLE scoring_models (
    site TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    model TEXT NOT NULL,
    trained_through BIGINT NOT NULL,
    spam_learned BIGINT NOT NULL,
    ham_learned BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
