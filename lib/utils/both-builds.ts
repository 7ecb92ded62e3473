/**
 * The package ships an ESM and a CommonJS build. An app loads one of them, unless ESM code imports the package
 * while CommonJS code (another library, say) requires it: then every class exists twice. Symbols and channel names
 * are global (Symbol.for, diagnostics_channel), errors match across builds (ConvoyError's Symbol.hasInstance), and
 * for classes used as injection tokens each build lists them here, in a registry shared through the global symbol
 * registry, so that a module made by one build also answers for the other build's classes.
 */
const REGISTRY = Symbol.for('nestjs-convoy:injectables');

/** A class, abstract or not, used as an injection token. */
export type Class = abstract new (...args: never[]) => unknown;
const registry = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??= new Map<string, Set<Class>>()) as Map<
  string,
  Set<Class>
>;

/** Records this build's injectable classes, by name. */
export function shareInjectables(classes: readonly Class[]): void {
  for (const type of classes) {
    const copies = registry.get(type.name) ?? new Set<Class>();
    copies.add(type);
    registry.set(type.name, copies);
  }
}

/** Providers that resolve the other build's class of each given class to this build's instance. */
export function otherBuildAliases(classes: readonly Class[]): Array<{ provide: Class; useExisting: Class }> {
  return classes.flatMap((own) =>
    [...(registry.get(own.name) ?? [])]
      .filter((other) => other !== own)
      .map((other) => ({ provide: other, useExisting: own })),
  );
}
