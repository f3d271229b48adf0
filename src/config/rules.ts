import type { ConfigProblem } from './load-config.js';
import type { FieldSpec, SyncConfig } from './schema.js';

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

  for (const [type, model] of Object.entries(config.pageTypes)) {
    const at = `pageTypes.${type}`;
    checkReferences(model.fields, `${at}.fields`);
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
    checkMetaCollision(model.fields, `singlePages.${slug}`);
  }
  for (const [key, model] of Object.entries(config.collections)) {
    const at = `collections.${key}`;
    checkReferences(model.fields, `${at}.fields`);
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
