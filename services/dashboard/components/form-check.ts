// A form checked with the shared schemas before it is sent (the schemas load only when a form is sent,
// keeping zod out of the first page load); a refusal is the first problem, named by its field's label
// ("Name: too short").

type Schemas = typeof import('@irlkit/shared/schemas');
type Parsed<T> = { success: true; data: T } | { success: false; error: ParseError };

interface ParseError {
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;
}

export function firstProblem(error: ParseError, fallback: string, label: (field: string) => string = (field) => field): string {
  const issue = error.issues[0];
  const field = issue?.path[0];
  return `${field === undefined ? fallback : label(String(field))}: ${issue?.message ?? 'invalid'}`;
}

/** The parsed data, or null once the first problem is shown (`show(null)` clears an earlier one). */
export async function checked<T>(
  parse: (schemas: Schemas) => Parsed<T>,
  show: (problem: string | null) => void,
  fallback: string,
  label?: (field: string) => string,
): Promise<T | null> {
  const result = parse(await import('@irlkit/shared/schemas'));
  if (!result.success) {
    show(firstProblem(result.error, fallback, label));
    return null;
  }
  show(null);
  return result.data;
}
