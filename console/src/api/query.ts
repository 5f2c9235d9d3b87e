/** A path with its query string; undefined values are left out. Pure. */
export function withQuery(path: string, query: Record<string, string | number | boolean | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** A path segment from an id the service chose or a person typed. */
export const seg = (id: string | number) => encodeURIComponent(String(id));
