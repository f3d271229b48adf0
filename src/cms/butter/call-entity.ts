/**
 * Call events name what they touched the way the client addresses it: pages by entity key
 * (`page:<type>:<slug>`), items by id (`item:<collection>#<id>`), item creates by collection
 * (`items:<collection>`, no id yet). This maps such a name to an entity key, items through `keyOfItem`
 * (the manifest's remote ids); undefined when it names no one entity.
 */
export function entityOfCall(
  name: string | undefined,
  keyOfItem: (collection: string, id: number) => string | undefined,
): string | undefined {
  if (!name) return undefined;
  if (name.startsWith('page:')) return name;
  const item = /^item:(.+)#(\d+)$/.exec(name);
  if (item?.[1] && item[2]) return keyOfItem(item[1], Number(item[2]));
  return undefined;
}
