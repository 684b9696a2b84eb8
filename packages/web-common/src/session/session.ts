import type { Client } from '@urql/core';
import { type App, type InjectionKey, inject, type Ref, ref, watch } from 'vue';
import type { Router } from 'vue-router';
import { type Me, MeQuery, SignOutMutation } from './session.query.js';

/** unknown: not asked yet; ended: was signed in and the server no longer knows the session. */
export type SessionStatus = 'unknown' | 'signed-out' | 'signed-in' | 'ended';

export interface Session {
  readonly me: Ref<Me | null>;
  readonly status: Ref<SessionStatus>;
  /** Asks the server who the caller is (never from the cache). */
  refresh(): Promise<Me | null>;
  signedIn(me: Me): void;
  signOut(): Promise<void>;
  /** Re-checks the session every `intervalMs` while signed in (and when the tab regains focus). */
  startWatching(intervalMs?: number): void;
  stopWatching(): void;
  install(app: App): void;
}

const sessionKey: InjectionKey<Session> = Symbol('medgrid.session');

/** Revocation ends sessions at once and other processes notice within 60 s; polling every 10 s keeps within that. */
export const DEFAULT_SESSION_POLL_MS = 10_000;

export function createSession(client: Client): Session {
  const me = ref<Me | null>(null);
  const status = ref<SessionStatus>('unknown');
  let timer: ReturnType<typeof setInterval> | undefined;
  let onFocus: (() => void) | undefined;

  const refresh = async (): Promise<Me | null> => {
    const result = await client.query(MeQuery, {}, { requestPolicy: 'network-only' }).toPromise();
    if (result.error) {
      // A network blip is not a sign-out: keep what we had, unless we never knew.
      if (status.value === 'unknown') status.value = 'signed-out';
      return me.value;
    }
    const current = result.data?.me ?? null;
    if (current) {
      me.value = current;
      status.value = 'signed-in';
    } else {
      status.value =
        status.value === 'signed-in' ? 'ended' : status.value === 'ended' ? 'ended' : 'signed-out';
      me.value = null;
    }
    return current;
  };

  const session: Session = {
    me,
    status,
    refresh,
    signedIn(value) {
      me.value = value;
      status.value = 'signed-in';
    },
    async signOut() {
      await client.mutation(SignOutMutation, {}).toPromise();
      me.value = null;
      status.value = 'signed-out';
    },
    startWatching(intervalMs = DEFAULT_SESSION_POLL_MS) {
      session.stopWatching();
      const tick = () => {
        if (status.value === 'signed-in') void refresh();
      };
      timer = setInterval(tick, intervalMs);
      onFocus = tick;
      globalThis.addEventListener?.('focus', onFocus);
    },
    stopWatching() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (onFocus) globalThis.removeEventListener?.('focus', onFocus);
      onFocus = undefined;
    },
    install(app) {
      app.provide(sessionKey, session);
    },
  };
  return session;
}

export function useSession(): Session {
  const session = inject(sessionKey);
  if (!session) throw new Error('useSession() needs the session plugin (app.use(createSession(client)))');
  return session;
}

/**
 * Every route except those with `meta.public` needs a session; without one the router goes to the sign-in route
 * (named `sign-in`) with the wanted path in `?redirect=`. When a session ends while open, the app goes there too.
 */
export function installSessionGuard(router: Router, session: Session): void {
  router.beforeEach(async (to) => {
    if (to.meta.public) return true;
    if (session.status.value === 'unknown') await session.refresh();
    if (session.me.value) return true;
    const query: Record<string, string> = { redirect: to.fullPath };
    if (session.status.value === 'ended') query.reason = 'ended';
    return { name: 'sign-in', query };
  });
  // A session that ends while the user looks at a page sends them to the sign-in page with the reason.
  let last = session.status.value;
  const check = () => {
    const now = session.status.value;
    if (now === 'ended' && last !== 'ended') {
      const current = router.currentRoute.value;
      if (!current.meta.public)
        void router.replace({ name: 'sign-in', query: { reason: 'ended', redirect: current.fullPath } });
    }
    last = now;
  };
  watch(session.status, check);
}
