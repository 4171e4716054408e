import { createHash } from 'node:crypto';
import type {
  JsonSchema,
  OpenApiDocument,
  OperationObject,
  ParameterObject,
  ResponseObject,
} from './openapi-types.js';

/**
 * Renders an OpenAPI document as one static HTML page on the server: no script, no font, no image,
 * nothing fetched by the page, so it reads the same on a machine without internet. Its CSP allows
 * exactly its own inline style and nothing else.
 */

export interface DocsPage {
  html: string;
  /** A Content-Security-Policy that allows this page's inline style and nothing else. */
  contentSecurityPolicy: string;
}

const CSS = `
:root { color-scheme: light dark; --fg: #1d2329; --muted: #5b6670; --line: #d9dee3; --code: #f3f5f7; --bg: #fff; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e8ec; --muted: #9aa5b0; --line: #39424b; --code: #232a31; --bg: #161b20; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.page { max-width: 980px; margin: 0 auto; padding: 24px 20px 64px; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h1 small { font-size: .55em; color: var(--muted); font-weight: normal; }
h2 { font-size: 1.3em; margin: 48px 0 4px; padding-bottom: 4px; border-bottom: 2px solid var(--line); text-transform: capitalize; }
h3 { font-size: 1.05em; margin: 0; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
h4 { font-size: .8em; margin: 18px 0 6px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
p { margin: 6px 0; }
a { color: #1f6feb; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
code { background: var(--code); padding: 1px 4px; border-radius: 3px; }
pre { background: var(--code); padding: 10px; border-radius: 4px; overflow-x: auto; }
pre code { padding: 0; background: none; }
nav ul { list-style: none; padding: 0; margin: 4px 0 12px; }
nav li { margin: 2px 0; }
nav .tag { margin-top: 12px; font-weight: 600; text-transform: capitalize; }
.operation, .schema { border: 1px solid var(--line); border-radius: 6px; padding: 14px 16px; margin: 16px 0; }
.method { display: inline-block; min-width: 58px; text-align: center; font: 600 .78em ui-monospace, monospace; color: #fff; border-radius: 4px; padding: 3px 6px; }
.get { background: #1a7f37; } .post { background: #1f6feb; } .patch { background: #9a6700; }
.path { font-size: 1em; background: none; padding: 0; }
.summary { color: var(--muted); }
.auth { display: inline-block; font-size: .8em; border-radius: 10px; padding: 1px 8px; border: 1px solid var(--line); }
.auth.required { border-color: #bf8700; }
table { border-collapse: collapse; width: 100%; margin: 4px 0; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-top: 1px solid var(--line); }
th { font-size: .8em; color: var(--muted); font-weight: 600; }
td table { margin: 6px 0 0; }
.status { font-weight: 600; font-family: ui-monospace, monospace; }
.ok { color: #1a7f37; } .err { color: #cf222e; }
.muted { color: var(--muted); font-size: .9em; }
details summary { cursor: pointer; color: var(--muted); font-size: .9em; margin-top: 8px; }
`;

const METHODS = ['get', 'post', 'patch'] as const;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Escapes, then turns `backticks` into <code>: the document's texts use that much Markdown. */
function inline(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

function refName(schema: JsonSchema): string | undefined {
  return schema.$ref?.startsWith('#/components/schemas/') ? schema.$ref.slice('#/components/schemas/'.length) : undefined;
}

function schemaLink(name: string): string {
  return `<a href="#schema-${escapeHtml(name)}"><code>${escapeHtml(name)}</code></a>`;
}

function asSchema(value: JsonSchema | boolean | undefined): JsonSchema {
  return typeof value === 'object' ? value : {};
}

function table(headings: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = headings.map((heading) => `<th>${heading}</th>`).join('');
  const body = rows.map((cells) => `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Strings as they are (the type column already says string), anything else as JSON. */
function literal(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A short type label: `string (date-time)`, `array of Message`, `integer or null`. */
function typeLabel(schema: JsonSchema): string {
  const name = refName(schema);
  if (name) return schemaLink(name);
  if (schema.anyOf) return schema.anyOf.map((option) => typeLabel(asSchema(option))).join(' or ');
  if (schema.enum) return `one of ${schema.enum.map((value) => `<code>${escapeHtml(literal(value))}</code>`).join(', ')}`;
  if (schema.const !== undefined) return `<code>${escapeHtml(literal(schema.const))}</code>`;
  if (schema.type === 'array') {
    const items = Array.isArray(schema.items) ? {} : asSchema(schema.items);
    return `array of ${typeLabel(items)}`;
  }
  const type = Array.isArray(schema.type) ? schema.type.join(' or ') : (schema.type ?? 'any');
  return schema.format ? `${escapeHtml(type)} (${escapeHtml(schema.format)})` : escapeHtml(type);
}

function range(min: number | undefined, max: number | undefined, unit: string): string | undefined {
  if (min !== undefined && max !== undefined) return `${min}..${max} ${unit}`;
  if (min === 1) return 'not empty';
  if (min !== undefined) return `at least ${min} ${unit}`;
  if (max !== undefined) return `at most ${max} ${unit}`;
  return undefined;
}

function numberRange(min: number | undefined, max: number | undefined): string | undefined {
  const upper = max === MAX_SAFE ? undefined : max;
  if (min !== undefined && upper !== undefined) return `${min}..${upper}`;
  if (min !== undefined) return `&ge; ${min}`;
  if (upper !== undefined) return `&le; ${upper}`;
  return undefined;
}

/** The constraints a reader needs, in words; the raw JSON Schema sits beside it for the rest. */
function constraints(schema: JsonSchema): string[] {
  const notes: (string | undefined)[] = [
    range(schema.minLength, schema.maxLength, 'characters'),
    range(schema.minItems, schema.maxItems, 'items'),
    numberRange(schema.minimum, schema.maximum),
    schema.pattern ? `matches <code>${escapeHtml(schema.pattern)}</code>` : undefined,
    schema.minProperties ? `at least ${schema.minProperties} field(s)` : undefined,
    schema.additionalProperties === false ? 'no other fields' : undefined,
  ];
  const items = Array.isArray(schema.items) ? undefined : schema.items;
  if (schema.type === 'array' && typeof items === 'object' && !refName(items)) {
    notes.push(...constraints(items).map((note) => `each ${note}`));
  }
  return notes.filter((note): note is string => note !== undefined);
}

/** The description, then the constraints on a muted line of their own. */
function notes(description: string | undefined, rules: readonly string[]): string {
  const text = description ? inline(description) : '';
  const ruleLine = rules.length > 0 ? `<span class="muted">${rules.join('; ')}</span>` : '';
  return [text, ruleLine].filter((part) => part.length > 0).join('<br>');
}

function propertiesTable(schema: JsonSchema): string {
  const properties = Object.entries(schema.properties ?? {});
  if (properties.length === 0) return `<p>${typeLabel(schema)}${schema.description ? ` — ${inline(schema.description)}` : ''}</p>`;
  const required = new Set(schema.required ?? []);
  const rows = properties.map(([name, value]) => {
    const property = asSchema(value);
    // A nested object gets a table of its own, which states its constraints itself.
    const nested = property.type === 'object' && property.properties !== undefined;
    const cell = nested
      ? `${notes(property.description, [])}${propertiesTable({ ...property, description: undefined })}`
      : notes(property.description, constraints(property));
    return [`<code>${escapeHtml(name)}</code>`, typeLabel(property), required.has(name) ? 'yes' : 'no', cell];
  });
  const objectNotes = constraints({ ...schema, description: undefined });
  return [
    table(['field', 'type', 'required', 'notes'], rows),
    objectNotes.length > 0 ? `<p class="muted">${objectNotes.join('; ')}.</p>` : '',
  ].join('');
}

function parametersSection(parameters: readonly ParameterObject[]): string {
  if (parameters.length === 0) return '';
  const rows = parameters.map((parameter) => [
    `<code>${escapeHtml(parameter.name)}</code>`,
    parameter.in,
    typeLabel(parameter.schema),
    parameter.required ? 'yes' : 'no',
    notes(parameter.description, constraints(parameter.schema)),
  ]);
  return `<h4>Parameters</h4>${table(['name', 'in', 'type', 'required', 'notes'], rows)}`;
}

function requestBodySection(operation: OperationObject, document: OpenApiDocument): string {
  const media = operation.requestBody?.content['application/json'];
  if (!media) return '';
  const name = refName(media.schema);
  const schema = name ? document.components.schemas[name] : media.schema;
  return [
    `<h4>Request body</h4><p><code>application/json</code>, required${name ? `: ${schemaLink(name)}` : ''}</p>`,
    schema ? propertiesTable(schema) : '',
  ].join('');
}

function responseBody(response: ResponseObject): string {
  const parts: string[] = [];
  for (const [type, media] of Object.entries(response.content ?? {})) {
    const name = refName(media.schema);
    const codes = Object.values(media.examples ?? {}).map((example) => `<code>${escapeHtml(example.summary)}</code>`);
    parts.push(
      `<code>${escapeHtml(type)}</code>${name ? ` ${schemaLink(name)}` : ''}${codes.length > 0 ? `, code ${codes.join(' or ')}` : ''}`,
    );
  }
  for (const header of Object.keys(response.headers ?? {})) parts.push(`header <code>${escapeHtml(header)}</code>`);
  return parts.join('<br>');
}

function responsesSection(operation: OperationObject): string {
  const rows = Object.entries(operation.responses).map(([status, response]) => {
    const kind = status.startsWith('2') ? 'ok' : 'err';
    return [`<span class="status ${kind}">${escapeHtml(status)}</span>`, inline(response.description), responseBody(response)];
  });
  return `<h4>Responses</h4>${table(['status', 'when', 'body'], rows)}`;
}

function operationSection(path: string, method: string, operation: OperationObject, document: OpenApiDocument): string {
  const needsToken = operation.security.length > 0;
  return [
    `<article class="operation" id="op-${escapeHtml(operation.operationId)}">`,
    `<h3><span class="method ${method}">${method.toUpperCase()}</span><code class="path">${escapeHtml(path)}</code>`,
    needsToken
      ? '<span class="auth required">Bearer JWT required</span>'
      : '<span class="auth">public: no token</span>',
    '</h3>',
    `<p class="summary">${inline(operation.summary)}</p>`,
    operation.description ? `<p>${inline(operation.description)}</p>` : '',
    parametersSection(operation.parameters ?? []),
    requestBodySection(operation, document),
    responsesSection(operation),
    '</article>',
  ]
    .filter((part) => part.length > 0)
    .join('\n');
}

interface Entry {
  path: string;
  method: string;
  operation: OperationObject;
}

function entriesByTag(document: OpenApiDocument): Map<string, Entry[]> {
  const byTag = new Map<string, Entry[]>(document.tags.map((tag) => [tag.name, []]));
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const tag = operation.tags[0] ?? 'other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)?.push({ path, method, operation });
    }
  }
  return byTag;
}

function schemaSection(name: string, schema: JsonSchema): string {
  return [
    `<section class="schema" id="schema-${escapeHtml(name)}">`,
    `<h3><code>${escapeHtml(name)}</code></h3>`,
    schema.description ? `<p class="summary">${inline(schema.description)}</p>` : '',
    propertiesTable(schema),
    `<details><summary>JSON Schema</summary><pre><code>${escapeHtml(JSON.stringify(schema, null, 2))}</code></pre></details>`,
    '</section>',
  ].join('\n');
}

export function renderDocsPage(document: OpenApiDocument): DocsPage {
  const byTag = entriesByTag(document);
  const tagDescriptions = new Map(document.tags.map((tag) => [tag.name, tag.description]));

  const nav = [...byTag].map(
    ([tag, entries]) =>
      `<li class="tag">${escapeHtml(tag)}</li>${entries
        .map(
          ({ path, method, operation }) =>
            `<li><a href="#op-${escapeHtml(operation.operationId)}"><code>${method.toUpperCase()} ${escapeHtml(path)}</code></a>` +
            ` <span class="muted">${inline(operation.summary)}</span></li>`,
        )
        .join('')}`,
  );

  const sections = [...byTag].map(([tag, entries]) =>
    [
      `<section id="tag-${escapeHtml(tag)}"><h2>${escapeHtml(tag)}</h2>`,
      tagDescriptions.has(tag) ? `<p>${inline(tagDescriptions.get(tag) ?? '')}</p>` : '',
      ...entries.map(({ path, method, operation }) => operationSection(path, method, operation, document)),
      '</section>',
    ].join('\n'),
  );

  const schemas = Object.entries(document.components.schemas).map(([name, schema]) => schemaSection(name, schema));
  const security = Object.entries(document.components.securitySchemes).map(
    ([name, scheme]) =>
      `<p><code>${escapeHtml(name)}</code>: HTTP <code>Authorization: Bearer &lt;${escapeHtml(scheme.bearerFormat)}&gt;</code>. ` +
      `${inline(scheme.description)}</p>`,
  );

  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(document.info.title)}</title>
<style>${CSS}</style>
</head>
<body>
<div class="page">
<header>
<h1>${escapeHtml(document.info.title)} <small>version ${escapeHtml(document.info.version)} · OpenAPI ${escapeHtml(document.openapi)}</small></h1>
${document.info.description
  .split('\n\n')
  .map((paragraph) => `<p>${inline(paragraph)}</p>`)
  .join('\n')}
<p>Machine-readable: <a href="openapi.json"><code>/api/openapi.json</code></a></p>
</header>
<nav><h2>Routes</h2><ul>${nav.join('')}</ul></nav>
<main>
<h2>Authentication</h2>
${security.join('\n')}
${sections.join('\n')}
<h2>Schemas</h2>
${schemas.join('\n')}
</main>
</div>
</body>
</html>
`;

  const styleHash = createHash('sha256').update(CSS).digest('base64');
  const contentSecurityPolicy = [
    "default-src 'none'",
    `style-src 'sha256-${styleHash}'`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}
