/**
 * GraphiQL served entirely by Beacon, so the IDE works without internet. Yoga's default
 * page loads its scripts from a CDN; `@graphql-yoga/render-graphiql` bundles the same
 * GraphiQL (9 MB of JavaScript, CSS and Monaco workers). Its own renderer inlines all of it
 * into every page; here the page is small and references the bundle's parts under
 * GRAPHIQL_ASSETS_PATH, which the browser caches. The bundle is imported on first use, so a
 * server nobody opens GraphiQL on never holds it in memory.
 */
import type { ServerResponse } from 'node:http';
import type { GraphiQLOptions } from 'graphql-yoga';

/** URL prefix of the bundle's files. */
export const GRAPHIQL_ASSETS_PATH = '/graphiql/';

type Bundle = typeof import('@graphql-yoga/render-graphiql/graphiql');
type Asset = { type: string; body: (bundle: Bundle) => string | Buffer };

const ASSETS: Record<string, Asset> = {
  'graphiql.js': { type: 'text/javascript; charset=utf-8', body: (b) => b.js },
  'graphiql.css': { type: 'text/css; charset=utf-8', body: (b) => b.css },
  'editor.worker.js': { type: 'text/javascript; charset=utf-8', body: (b) => b.editorWorkerService },
  'json.worker.js': { type: 'text/javascript; charset=utf-8', body: (b) => b.jsonWorker },
  'graphql.worker.js': { type: 'text/javascript; charset=utf-8', body: (b) => b.graphqlWorker },
  'favicon.ico': { type: 'image/x-icon', body: (b) => Buffer.from(b.favicon.slice(b.favicon.indexOf(',') + 1), 'base64') },
};

let bundle: Promise<Bundle> | undefined;

/** JSON for an inline <script>: `<` escaped so no value can close the script element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/** Yoga's `renderGraphiQL`: the page, referencing the bundle's files on this server. */
export function renderGraphiQLPage(options: GraphiQLOptions): string {
  const asset = (name: string) => `${GRAPHIQL_ASSETS_PATH}${name}`;
  const title = String(options.title ?? 'GraphiQL').replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  // Monaco asks for its workers by label; the bundle's renderer hands it blob URLs of the same code.
  const workers = { editorWorkerService: asset('editor.worker.js'), json: asset('json.worker.js'), graphql: asset('graphql.worker.js') };
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${title}</title>
    <link rel="icon" href="${asset('favicon.ico')}" />
    <link rel="stylesheet" href="${asset('graphiql.css')}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root"></div>
    <script>
      self.MonacoEnvironment = {
        globalAPI: false,
        getWorkerUrl: (_moduleId, label) => (${scriptJson(workers)})[label] ?? ${scriptJson(workers.editorWorkerService)},
      };
    </script>
    <script src="${asset('graphiql.js')}"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${scriptJson(options)});
    </script>
  </body>
</html>
`;
}

/** Serves one file of the bundle (`name` is the part after GRAPHIQL_ASSETS_PATH); 404 for anything else. */
export async function sendGraphiQLAsset(name: string, res: ServerResponse): Promise<void> {
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!asset) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
    return;
  }
  bundle ??= import('@graphql-yoga/render-graphiql/graphiql');
  const body = asset.body(await bundle);
  res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' }).end(body);
}
