export { default as AupAcceptance } from './aup/AupAcceptance.vue';
export { createGraphqlClient } from './graphql/client.js';
export { errorCode, errorText } from './graphql/errors.js';
export { type CommonMessages, commonEn } from './i18n/common.en.js';
export { commonUk } from './i18n/common.uk.js';
export {
  createAppI18n,
  initialLocale,
  isLocale,
  type Locale,
  locales,
  messageKeys,
  setLocale,
} from './i18n/i18n.js';
export { default as LanguageSwitcher } from './i18n/LanguageSwitcher.vue';
export { default as SessionBadge } from './session/SessionBadge.vue';
export {
  createSession,
  DEFAULT_SESSION_POLL_MS,
  installSessionGuard,
  type Session,
  type SessionStatus,
  useSession,
} from './session/session.js';
export type { AccessState, Me, VoRoleName } from './session/session.query.js';
export { MeQuery } from './session/session.query.js';
export { default as ServerVersion } from './version/ServerVersion.vue';
export { VersionQuery } from './version/version.query.js';

/** Downloads `content` as a file named `name` (client-side, no server round trip). */
export function downloadText(name: string, content: BlobPart, type = 'text/plain'): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
