/**
 * Dynamic import of what vgic-lab loads on demand: esbuild and typescript for design modules, and the
 * modules themselves. The bundled worker runs as a script compiled with V8's code cache
 * (scripts/worker-loader.mjs), where `import()` is not available: its loader hands in its own.
 */
type Importer = (specifier: string) => Promise<unknown>;

export function importModule<T>(specifier: string): Promise<T> {
  const hook = (globalThis as { __vgicLabImport?: Importer }).__vgicLabImport;
  return (hook ? hook(specifier) : import(specifier)) as Promise<T>;
}
