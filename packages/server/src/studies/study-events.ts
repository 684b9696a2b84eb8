import { EventEmitter, on } from 'node:events';
import type { PubSub } from 'type-graphql';

export const STUDY_PROGRESS = 'STUDY_PROGRESS';

/** An ingest or storage step of one instance; identifiers only (de-identified UIDs), never patient data. */
export interface StudyProgressEvent {
  ownerId: string;
  studyId: string;
  sopInstanceUid: string;
  /** ingested (recorded and spooled), queued (store job queued), duplicate (already stored). */
  state: 'ingested' | 'queued' | 'duplicate';
  at: Date;
}

/** In-process publish/subscribe for GraphQL subscriptions (one server process serves its own uploads). */
class LocalPubSub implements PubSub {
  private readonly emitter = new EventEmitter();
  constructor() {
    this.emitter.setMaxListeners(0);
  }
  publish(routingKey: string, ...args: unknown[]): void {
    this.emitter.emit(routingKey, args[0]);
  }
  subscribe(routingKey: string): AsyncIterable<unknown> {
    const it = on(this.emitter, routingKey);
    return {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          const r = await it.next();
          return r.done ? r : { done: false, value: (r.value as unknown[])[0] };
        },
        return: async () => {
          await it.return?.();
          return { done: true, value: undefined };
        },
      }),
    };
  }
}

export const pubSub = new LocalPubSub();

export function publishProgress(e: StudyProgressEvent): void {
  pubSub.publish(STUDY_PROGRESS, e);
}
