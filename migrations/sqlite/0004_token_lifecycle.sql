-- API token lifecycle (SPEC §7), SQLite dialect. Keep in step with ../postgres/0004_token_lifecycle.sql.
--
-- `expires_at`: a token is refused from this time on (Unix seconds). Tokens made before this
-- migration have none and never expire until revoked; `huren issuer token list` shows them
-- with `"expires_at": null` so an operator can find and replace them.
-- `last_used_at`: when the token last authenticated, to at most a minute's precision (the
-- issuer writes it at most once a minute per token, so reads do not all become writes).
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
ALTER TABLE api_tokens ADD COLUMN last_used_at INTEGER;
