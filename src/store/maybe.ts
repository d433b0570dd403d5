// A store answer that is a value on SQLite (synchronous, no promise hop on the hot path) and a
// promise on PostgreSQL. Callers on a hot path test `isPromise` and await only then; others await.

export type Maybe<T> = T | Promise<T>;

export function isPromise<T>(v: Maybe<T>): v is Promise<T> {
  return v instanceof Promise;
}

/** `f` of the value, synchronously when the value is not a promise. */
export function mapMaybe<T, R>(v: Maybe<T>, f: (t: T) => R): Maybe<R> {
  return isPromise(v) ? v.then(f) : f(v);
}

/** Let a write run on in the background: a failure goes to `onError` instead of an unhandled rejection. */
export function detach(v: Maybe<unknown>, onError: (e: unknown) => void): void {
  if (isPromise(v)) v.catch(onError);
}
