import { Controller, type Type } from '@nestjs/common';

/**
 * The controller class served at `path`: a subclass of `base` with `@Controller(path)`, so one module can mount its
 * pages where each app chooses (route decorators on `base`'s methods are inherited).
 */
export function controllerAt<T extends Type>(path: string, base: T): T {
  const mounted = class extends base {};
  Object.defineProperty(mounted, 'name', { value: `${base.name}At${path.replace(/[^A-Za-z0-9]/g, '_')}` });
  Controller(path)(mounted);
  return mounted;
}

/** `/webhooks/admin/` → `webhooks/admin`; refuses paths that would escape or collide with query strings. */
export function normalizeMountPath(path: string, option: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (
    !/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(trimmed) ||
    trimmed.split('/').some((s) => s === '..' || s === '.')
  ) {
    throw new TypeError(`${option} must be a path such as "/webhooks/admin" (letters, digits, "-", "_", "." and "/")`);
  }
  return trimmed;
}
