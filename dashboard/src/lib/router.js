// Hash router. The route and the list state (tab, filters, sort, page markers) live in the URL
// hash, so reload, Back and shared links keep them:
//   #/images?tab=project&name=x&sort=name:asc&m=<marker>,<marker>
//   #/images/<id>      #/usage      #/api-access
import {useEffect, useState} from 'preact/hooks';

/** "#/images/abc?x=1" -> {path: ['images', 'abc'], params: URLSearchParams("x=1")}. */
export function parseHash(hash) {
  const raw = (hash ?? '').replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const pathText = q < 0 ? raw : raw.slice(0, q);
  const path = pathText.split('/').filter(Boolean).map(decodeURIComponent);
  return {path: path.length ? path : ['images'], params: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1))};
}

/** The inverse of parseHash: formatHash(['images'], {tab: 'public'}) -> "#/images?tab=public". */
export function formatHash(path, params) {
  const query = params instanceof URLSearchParams ? params : new URLSearchParams(params ?? {});
  const text = query.toString();
  return `#/${path.map(encodeURIComponent).join('/')}${text ? `?${text}` : ''}`;
}

export function navigate(hash, {replace = false} = {}) {
  if (location.hash === hash) return;
  if (replace) {
    history.replaceState(null, '', hash);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = hash;
  }
}

/** The current route; re-renders on hashchange. */
export function useRoute() {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
