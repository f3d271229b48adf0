import leven from 'leven';
import { buildJsonSchema } from './schema.js';

/**
 * Hints for config problems, read from the JSON Schema (itself generated from the zod schema), so they name
 * exactly the keys and field types the schema accepts, whatever is added to it later.
 */

type Node = Record<string, unknown>;

let cached: Node | undefined;
function rootSchema(): Node {
  cached ??= buildJsonSchema() as Node;
  return cached;
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Follow `$ref`s into the schema's definitions. */
function deref(node: Node): Node {
  let current = node;
  for (let i = 0; i < 20 && typeof current.$ref === 'string'; i++) {
    const name = current.$ref.replace(/^#\/definitions\//, '');
    const definitions = rootSchema().definitions;
    const next = isNode(definitions) ? definitions[name] : undefined;
    if (!isNode(next)) break;
    current = next;
  }
  return current;
}

function branches(node: Node): Node[] {
  const n = deref(node);
  const alternatives = [n.anyOf, n.oneOf].flatMap((list) => (Array.isArray(list) ? list : []));
  return alternatives.length ? alternatives.filter(isNode).flatMap(branches) : [n];
}

/** The schema nodes that may describe the value at `path` (several where a union allows several forms). */
function nodesAt(path: readonly PropertyKey[]): Node[] {
  let nodes = branches(rootSchema());
  for (const segment of path) {
    const key = String(segment);
    nodes = nodes.flatMap((node) => {
      const properties = isNode(node.properties) ? node.properties : {};
      const child =
        properties[key] ?? (isNode(node.additionalProperties) ? node.additionalProperties : undefined);
      return isNode(child) ? branches(child) : [];
    });
  }
  return nodes;
}

/** Whether a schema node is the form for this `type` value (field specs are told apart by their "type"). */
function formOf(node: Node, type: unknown): boolean {
  const spec = isNode(node.properties) ? node.properties.type : undefined;
  if (typeof type !== 'string' || !isNode(spec)) return true;
  return spec.const === type || (Array.isArray(spec.enum) && spec.enum.includes(type));
}

/** The keys an object at `path` may hold; `type` picks the form of a field spec that was meant. */
export function keysAt(path: readonly PropertyKey[], type?: unknown): string[] {
  const keys = new Set<string>();
  const nodes = nodesAt(path);
  const meant = nodes.filter((node) => formOf(node, type));
  for (const node of meant.length ? meant : nodes) {
    if (isNode(node.properties)) for (const key of Object.keys(node.properties)) keys.add(key);
  }
  return [...keys];
}

/** Every field type a field spec may name (`"text"`, or `{"type": "reference", …}`), in schema order. */
export function fieldTypes(): string[] {
  const types = new Set<string>();
  for (const node of nodesAt(['pageTypes', '_', 'fields', '_'])) {
    for (const value of Array.isArray(node.enum) ? node.enum : [])
      if (typeof value === 'string') types.add(value);
    const type = isNode(node.properties) ? node.properties.type : undefined;
    if (isNode(type)) {
      if (typeof type.const === 'string') types.add(type.const);
      for (const value of Array.isArray(type.enum) ? type.enum : [])
        if (typeof value === 'string') types.add(value);
    }
  }
  return [...types];
}

/** The closest candidate to a misspelt word (case, a letter or two), or undefined when none is close. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const folded = candidates.find((c) => c.toLowerCase() === word.toLowerCase());
  if (folded) return folded;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = leven(word.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 4)));
  return best && best.distance <= limit ? best.candidate : undefined;
}
