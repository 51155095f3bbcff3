// The two cookie operations the session plugin needs: read one cookie from a Cookie header, write a Set-Cookie.

/** The value of cookie `name` in a Cookie header, URI-decoded; undefined when absent or undecodable. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue
    let value = part.slice(eq + 1).trim()
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1)
    try {
      return decodeURIComponent(value)
    } catch {
      return undefined
    }
  }
  return undefined
}

export interface CookieAttributes {
  path: string
  domain?: string
  secure: boolean
  sameSite: 'Lax' | 'Strict' | 'None'
  /** seconds; 0 deletes the cookie; undefined = a browser-session cookie */
  maxAge?: number
}

/** A Set-Cookie value; always HttpOnly (scripts never see a session id). */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${attributes.path}`, 'HttpOnly', `SameSite=${attributes.sameSite}`]
  if (attributes.domain) parts.push(`Domain=${attributes.domain}`)
  if (attributes.secure) parts.push('Secure')
  if (attributes.maxAge !== undefined) {
    parts.push(`Max-Age=${Math.max(0, Math.floor(attributes.maxAge))}`)
    if (attributes.maxAge <= 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT')
  }
  return parts.join('; ')
}
