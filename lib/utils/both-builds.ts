/**
 * The package ships an ESM and a CommonJS build. An app loads one of them, unless ESM code imports the package
 * while CommonJS code (another library, say) requires it: then every class exists twice. Symbols and channel names
 * are global (Symbol.for, diagnostics_channel), errors match across builds (ConvoyError's Symbol.hasInstance), and
 * for classes used as injection tokens each build lists them here, in a registry shared through the global symbol
 * registry, so that a module made by one build also answers for the other build's classes.
 */
const REGISTRY = Symbol.for('nestjs-convoy:injectables');
const registry = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??= new Map<string, Set<Function>>()) as Map<
  string,
  Set<Function>
>;

/** Records this build's injectable classes, by name. */
export function shareInjectables(classes: readonly Function[]): void {
  for (const type of classes) {
    const copies = registry.get(type.name) ?? new Set<Function>();
    copies.add(type);
    registry.set(type.name, copies);
  }
}

/** Providers that resolve the other build's class of each given class to this build's instance. */
export function otherBuildAliases(classes: readonly Function[]): Array<{ provide: Function; useExisting: Function }> {
  return classes.flatMap((own) =>
    [...(registry.get(own.name) ?? [])]
      .filter((other) => other !== own)
      .map((other) => ({ provide: other, useExisting: own })),
  );
}
