-- depends: 0005.gateway-tell-notify-the-phones
-- a new password ends the access tokens issued before it: each carries the generation of the
-- account's password, and the gateway refuses an older one (it re-reads the accounts signed out
-- lately, the same way as closed ones, by signed_out_at)
ALTER TABLE accounts ADD COLUMN token_generation integer NOT NULL DEFAULT 0,
                     ADD COLUMN signed_out_at timestamptz;
CREATE INDEX accounts_signed_out_at ON accounts (signed_out_at) WHERE signed_out_at IS NOT NULL;

-- the refresh tokens of one sign-in form a chain: a spent token used again ends the whole chain
ALTER TABLE refresh_tokens ADD COLUMN chain uuid NOT NULL DEFAULT gen_random_uuid();
CREATE INDEX refresh_tokens_live_chain ON refresh_tokens (chain) WHERE used_at IS NULL;
