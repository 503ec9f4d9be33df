/** Input guards every operation passes (query cost limits live in src/graphql/armor.ts). */
import { GraphQLError, type ASTVisitor, type ValidationContext } from 'graphql';

/**
 * PostgreSQL text cannot hold U+0000, so a NUL anywhere in a client's strings would surface
 * as a database error deep in some service. It is refused once, here, for every operation:
 * in literals by this validation rule, in variables by `nulInVariables`.
 */
export function noNulStringsRule(context: ValidationContext): ASTVisitor {
  return {
    StringValue(node) {
      if (node.value.includes('\u0000')) {
        context.reportError(new GraphQLError('Strings may not contain the NUL character (U+0000)', { nodes: [node], extensions: { code: 'VALIDATION' } }));
      }
    },
  };
}

/** The dotted path of the first string holding U+0000 in `value`, or null. */
export function nulInVariables(value: unknown, path = 'variables'): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = nulInVariables(item, `${path}[${i}]`);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = nulInVariables(key, path) ?? nulInVariables(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return null;
}
