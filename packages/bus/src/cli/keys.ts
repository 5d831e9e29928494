import { parseArgs } from "node:util";
import { generateApiKey } from "../auth/api-keys.js";
import { createAuthenticator } from "../auth/authenticator.js";
import { defaultStoreUrl, openStore } from "../store/open-store.js";

export const keysUsage = `Usage: tributary keys <create|list|revoke|generate> --store URL [options]

  create --principal NAME [--produce PATTERN]… [--consume PATTERN]… [--admin]
           creates a key for the principal (created when new; the rights are added to its
           rights) and prints the key once: it is stored hashed and cannot be shown again.
           PATTERN is a topic name with * wildcards (orders.*), or subscription:PATTERN.
  list     lists keys: id, principal, created, revoked (never the key itself)
  revoke ID
           revokes a key at once on this store (other bus processes within a second)
  generate prints a new key and stores nothing (no --store): for TRIBUTARY_ADMIN_KEY_FILE, which
           tributary serve stores as the first key of a store that has none

  --store URL   sqlite:PATH or postgres://… [TRIBUTARY_STORE] (default ${defaultStoreUrl})
`;

/** `tributary keys …`: manages API keys straight in the store (no bus needs to run). */
export async function keys(
  args: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${keysUsage}`);
    return 1;
  }
  const { values, positionals } = parsed;
  const [action, ...rest] = positionals;
  if (values.help || action === undefined) {
    process.stdout.write(keysUsage);
    return values.help ? 0 : 1;
  }
  if (action === "generate") {
    process.stdout.write(`${generateApiKey().key}\n`);
    return 0;
  }
  const store = openStore(values.store ?? env.TRIBUTARY_STORE ?? defaultStoreUrl);
  try {
    await store.migrate();
    const auth = createAuthenticator({ store: store.auth });
    switch (action) {
      case "create": {
        if (values.principal === undefined) throw new Error("keys create needs --principal NAME");
        const { key, info } = await auth.createKey(values.principal, {
          produce: values.produce ?? [],
          consume: values.consume ?? [],
          admin: values.admin ?? false,
        });
        process.stderr.write(`created key ${info.id} for ${info.principal}; it is shown once:\n`);
        process.stdout.write(`${key}\n`);
        return 0;
      }
      case "list": {
        const principals = new Map((await store.auth.principals()).map((p) => [p.name, p.grants]));
        for (const key of await auth.listKeys()) {
          const grants = principals.get(key.principal);
          const rights = [
            ...(grants?.admin ? ["admin"] : []),
            ...(grants?.produce ?? []).map((pattern) => `produce:${pattern}`),
            ...(grants?.consume ?? []).map((pattern) => `consume:${pattern}`),
          ];
          const state = key.revokedAt === null ? "active" : `revoked ${key.revokedAt}`;
          process.stdout.write(
            `${key.id}\t${key.principal}\t${key.createdAt}\t${state}\t${rights.join(" ")}\n`,
          );
        }
        return 0;
      }
      case "revoke": {
        const [id] = rest;
        if (id === undefined) throw new Error("keys revoke needs the key's id");
        if (!(await auth.revokeKey(id))) {
          process.stderr.write(`no active key has id ${id}\n`);
          return 1;
        }
        process.stderr.write(`revoked ${id}\n`);
        return 0;
      }
      default:
        throw new Error(`unknown keys action "${action}"`);
    }
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await store.close();
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      store: { type: "string" },
      principal: { type: "string" },
      produce: { type: "string", multiple: true },
      consume: { type: "string", multiple: true },
      admin: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}
