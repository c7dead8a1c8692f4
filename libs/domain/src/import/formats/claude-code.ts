import { z } from 'zod';
import {
  epochMilliseconds,
  has,
  importedTokens,
  optionalToken,
  parseAs,
  requiredToken,
  type TokenFileFormat,
} from './shared.js';

/**
 * Claude Code `~/.claude/.credentials.json` (the same JSON is the macOS Keychain
 * item "Claude Code-credentials"): `{ claudeAiOauth: { accessToken
 * ('sk-ant-oat01-…'), refreshToken ('sk-ant-ort01-…'), expiresAt (epoch ms),
 * scopes: string[], subscriptionType?, rateLimitTier? } }`, sometimes beside an
 * `mcpOAuth` block. Claude Code is closed source; the shape is the one its
 * readers agree on.
 *
 * Sources: rajish/cc-hdrm cc-hdrm/cc-hdrm/Models/KeychainCredentials.swift
 * (accessToken, refreshToken?, expiresAt?, subscriptionType?, rateLimitTier?,
 * scopes?), pgagarinov/awesome-claude-code docs/35-oauth-token-storage.md (token
 * prefixes, `mcpOAuth`).
 */
const ClaudeCredentialsSchema = z.looseObject({
  claudeAiOauth: z.looseObject({
    accessToken: requiredToken,
    refreshToken: optionalToken,
    expiresAt: epochMilliseconds.nullish(),
    scopes: z.array(z.string()).nullish(),
    subscriptionType: z.string().nullish(),
    rateLimitTier: z.string().nullish(),
  }),
});

export const claudeCode: TokenFileFormat = {
  format: 'claude-code/.credentials.json',
  label: 'Claude Code .credentials.json',
  identifiedBy: 'claudeAiOauth',
  detect: (document) => has(document, 'claudeAiOauth'),
  parse: (document) => {
    const oauth = parseAs(claudeCode.label, ClaudeCredentialsSchema, document).claudeAiOauth;
    const expiresAt =
      oauth.expiresAt === null || oauth.expiresAt === undefined
        ? undefined
        : Math.round(oauth.expiresAt);
    return importedTokens({
      format: claudeCode.format,
      provider: 'anthropic',
      accessToken: oauth.accessToken,
      refreshToken: oauth.refreshToken,
      tokenType: 'Bearer',
      expiresAt,
      scopes: oauth.scopes ?? [],
      warnings:
        expiresAt === undefined
          ? [
              'no expiry: claudeAiOauth.expiresAt is missing, so when the access token expires is unknown',
            ]
          : [],
    });
  },
};
