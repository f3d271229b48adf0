import { type ConfigProblem, type FieldSpec, filePathOf, type SyncConfig } from './schema.js';
import { timezoneOffsetMinutes } from './timezone.js';

/** Rules zod cannot express alone: references to existing collections, key fields, name collisions. */
export function checkConfigRules(config: SyncConfig): { warnings: ConfigProblem[]; errors: ConfigProblem[] } {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const { titleKey, statusKey } = config.pageMeta;

  if (!config.locales.all.includes(config.locales.default)) {
    errors.push({
      path: 'locales.default',
      message: `default locale "${config.locales.default}" is not in locales.all`,
      hint: 'Add it to locales.all.',
    });
  }
  // Every file the sync reads or writes lives under contentDir: it must not lead out of the repository.
  const dir = config.contentDir.replaceAll('\\', '/');
  if (dir.startsWith('/') || /^[A-Za-z]:/.test(dir) || dir.split('/').includes('..')) {
    errors.push({
      path: 'contentDir',
      message: `"${config.contentDir}" is not a folder inside the repository`,
      hint: 'Give a path relative to the repository root, without "..", e.g. "content".',
    });
  }
  if (titleKey === statusKey) {
    errors.push({ path: 'pageMeta', message: 'titleKey and statusKey must differ' });
  }

  const checkReferences = (fields: Record<string, FieldSpec>, at: string): void => {
    for (const [name, spec] of Object.entries(fields)) {
      const path = `${at}.${name}`;
      if (spec.type === 'reference' && spec.to.startsWith('collection:')) {
        const target = spec.to.slice('collection:'.length);
        if (!config.collections[target]) {
          errors.push({
            path: `${path}.to`,
            message: `references collection "${target}", which is not configured`,
            hint: `Add "${target}" under "collections" or fix the name.`,
          });
        }
      }
      if (spec.type === 'repeater' || spec.type === 'component')
        checkReferences(spec.fields, `${path}.fields`);
      if (spec.type === 'component-picker') {
        for (const [component, c] of Object.entries(spec.components)) {
          checkReferences(c.fields, `${path}.components.${component}.fields`);
        }
      }
    }
  };

  const checkMetaCollision = (fields: Record<string, FieldSpec>, at: string): void => {
    for (const key of [titleKey, statusKey]) {
      if (key in fields) {
        errors.push({
          path: `${at}.fields.${key}`,
          message: `field "${key}" collides with the page metadata key "${key}"`,
          hint: `Rename the metadata key with pageMeta (e.g. "pageMeta": {"${key === titleKey ? 'titleKey' : 'statusKey'}": "page_${key}"}).`,
        });
      }
    }
  };

  // Nested fields sit inside their parent's value, so only an entity's own fields can move with `path`.
  const checkNestedPaths = (fields: Record<string, FieldSpec>, at: string): void => {
    for (const [name, spec] of Object.entries(fields)) {
      const inner =
        spec.type === 'repeater' || spec.type === 'component'
          ? [spec.fields]
          : spec.type === 'component-picker'
            ? Object.values(spec.components).map((c) => c.fields)
            : [];
      for (const sub of inner) {
        for (const [subName, subSpec] of Object.entries(sub)) {
          if (subSpec.path !== undefined) {
            errors.push({
              path: `${at}.${name}.${subName}.path`,
              message:
                '"path" works on the fields of a page type, single page or collection, not inside another field',
            });
          }
        }
        checkNestedPaths(sub, `${at}.${name}`);
      }
    }
  };

  // Two fields (or a field and a gitOnly key) that claim the same place in the file cannot both sync it.
  const checkFilePlaces = (
    fields: Record<string, FieldSpec>,
    own: string[] | undefined,
    at: string,
  ): void => {
    checkNestedPaths(fields, `${at}.fields`);
    const places: { name: string; path: string[] }[] = Object.entries(fields).map(([name, spec]) => ({
      name,
      path: filePathOf(name, spec),
    }));
    const overlaps = (a: string[], b: string[]): boolean =>
      a.slice(0, Math.min(a.length, b.length)).every((step, i) => step === b[i]);
    for (let i = 0; i < places.length; i++) {
      for (let j = i + 1; j < places.length; j++) {
        const a = places[i]!;
        const b = places[j]!;
        if (overlaps(a.path, b.path)) {
          errors.push({
            path: `${at}.fields.${b.name}`,
            message: `fields "${a.name}" and "${b.name}" both read the file key "${(a.path.length < b.path.length ? a.path : b.path).join('.')}"`,
            hint: 'Give each field its own key (a "path" may not lie inside another field\'s key).',
          });
        }
      }
    }
    for (const key of own ?? []) {
      const clash = places.find((p) => overlaps(p.path, key.split('.')));
      if (clash) {
        errors.push({
          path: `${at}.gitOnly`,
          message: `"${key}" is listed in gitOnly but field "${clash.name}" syncs it`,
          hint: 'Remove it from gitOnly, or remove the field.',
        });
      }
    }
  };

  if (config.timezone !== undefined && timezoneOffsetMinutes(config.timezone, new Date(0)) === undefined) {
    errors.push({
      path: 'timezone',
      message: `"${config.timezone}" is not a time zone`,
      hint: 'Use "UTC", an offset like "+02:00", or an IANA zone name like "Europe/Berlin".',
    });
  }

  for (const [type, model] of Object.entries(config.pageTypes)) {
    const at = `pageTypes.${type}`;
    checkReferences(model.fields, `${at}.fields`);
    checkFilePlaces(model.fields, model.gitOnly, at);
    if (model.bodyField !== undefined && model.fields[model.bodyField]?.path !== undefined) {
      errors.push({
        path: `${at}.fields.${model.bodyField}.path`,
        message: `the body field "${model.bodyField}" is the Markdown body, so it cannot have a "path"`,
      });
    }
    checkMetaCollision(model.fields, at);
    if (model.bodyField !== undefined) {
      const body = model.fields[model.bodyField];
      if (!body) {
        errors.push({
          path: `${at}.bodyField`,
          message: `bodyField "${model.bodyField}" is not one of the type's fields`,
          hint: 'Name a text or richtext field of this page type.',
        });
      } else if (body.type !== 'text' && body.type !== 'richtext') {
        errors.push({
          path: `${at}.bodyField`,
          message: `bodyField "${model.bodyField}" must be text or richtext`,
        });
      }
    }
  }
  for (const [slug, model] of Object.entries(config.singlePages)) {
    checkReferences(model.fields, `singlePages.${slug}.fields`);
    checkFilePlaces(model.fields, model.gitOnly, `singlePages.${slug}`);
    checkMetaCollision(model.fields, `singlePages.${slug}`);
  }
  for (const [key, model] of Object.entries(config.collections)) {
    const at = `collections.${key}`;
    checkReferences(model.fields, `${at}.fields`);
    checkFilePlaces(model.fields, model.gitOnly, at);
    const keySpec = model.fields[model.keyField];
    if (!keySpec) {
      errors.push({
        path: `${at}.keyField`,
        message: `keyField "${model.keyField}" is not one of the collection's fields`,
        hint: 'Name a text field whose values are unique (a slug, for example).',
      });
    } else if (keySpec.type !== 'text') {
      errors.push({ path: `${at}.keyField`, message: `keyField "${model.keyField}" must be a text field` });
    }
    for (const [name, spec] of Object.entries(model.fields)) {
      if (spec.type === 'repeater' || spec.type === 'component' || spec.type === 'component-picker') {
        errors.push({
          path: `${at}.fields.${name}`,
          message: `collections cannot hold ${spec.type} fields (ButterCMS allows them on pages only)`,
        });
      }
    }
  }
  if (
    Object.keys(config.pageTypes).length +
      Object.keys(config.singlePages).length +
      Object.keys(config.collections).length ===
    0
  ) {
    warnings.push({
      path: '(top level)',
      message: 'no pageTypes, singlePages or collections: nothing will sync',
    });
  }
  if (config.rate.monthlyCallBudget === undefined) {
    warnings.push({
      path: 'rate.monthlyCallBudget',
      message: 'no monthly call budget set: polling is not capped',
    });
  }
  return { warnings, errors };
}
