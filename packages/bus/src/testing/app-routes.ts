import type { FastifyInstance } from "fastify";

/**
 * Every route of the app as `METHOD /path` (Fastify's `:param` form), HEAD left out, read from
 * `printRoutes`: a tree whose lines each add a piece of path to their parent's, four columns deeper.
 */
export function routesOf(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const pieces: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split("\n")) {
    const match = /^([│ ]*)[├└]── (.*) \(([^()]*)\)$/.exec(line);
    if (match === null) continue;
    const [, indent = "", piece = "", methods = ""] = match;
    pieces.length = indent.length / 4;
    const path = pieces.join("") + piece;
    pieces.push(piece);
    for (const method of methods.split(", ")) {
      if (method !== "HEAD" && method !== "-") routes.push(`${method} ${path}`);
    }
  }
  return routes;
}
