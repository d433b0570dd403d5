// Maps kept in order of last use and bounded in size, for what the gate remembers per host or rate
// key: memory follows the hosts in use, and the ones unused longest are the ones forgotten.

/** `map.set`, keeping the map ordered by last use and at most `max` entries (oldest dropped). */
export function setRecent<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}
