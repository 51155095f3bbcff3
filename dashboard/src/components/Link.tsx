// An anchor that navigates in place (a plain click) and still behaves as a link otherwise (new tab, copy address).
import type { AnchorHTMLAttributes, MouseEvent } from 'react'
import { href, navigate } from '../router.ts'

export function Link({ to, onClick, ...rest }: { to: string } & Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'>) {
  const click = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event)
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    event.preventDefault()
    navigate(to)
  }
  return <a href={href(to)} onClick={click} {...rest} />
}
