// The headers the demo's own calls into its controller's API carry (the routes may require SKALDS_API_TOKEN).
export function apiHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {}
}
