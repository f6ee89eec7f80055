// The shape of lib/ (../shared/design/architecture.md), read from the import graph: imports
// point down the layers only, server/ and client/ never import each other, nothing imports the
// barrel, there is no cycle, and no module grows past ~400 lines.
import fs from 'fs';
import path from 'path';

const LIB = path.join(__dirname, '..', 'lib');

// Lowest first: a module may import from its own layer or from one listed before it.
const LAYERS = ['errors', 'native', 'peer', 'protocol', 'transport', 'auth', 'server|client', 'proxy', 'config', 'cli', 'index'];
const MAX_LINES = 400;

function layerOf(module: string): { rank: number; name: string } {
  const name = module.split('/')[0].replace(/\.ts$/, '');
  const rank = LAYERS.findIndex((layer) => layer.split('|').includes(name));
  if (rank < 0) throw new Error(`lib/${module} is in no layer: add its folder to LAYERS (and to the design note)`);
  return { rank, name };
}

function modules(dir = LIB): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return modules(full);
    return entry.name.endsWith('.ts') ? [path.relative(LIB, full)] : [];
  });
}

// Every relative import, export-from, require() and import() of a module, resolved to lib/-relative paths.
function importsOf(module: string): string[] {
  const source = fs.readFileSync(path.join(LIB, module), 'utf8');
  const specifiers = [...source.matchAll(/(?:\bfrom\s*|\brequire\(\s*|\bimport\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  return specifiers.map((specifier) => {
    const base = path.join(path.dirname(module), specifier);
    const found = [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => fs.existsSync(path.join(LIB, candidate)));
    if (found === undefined) throw new Error(`lib/${module}: cannot resolve ${specifier}`);
    return found;
  });
}

const graph = new Map(modules().map((module) => [module, importsOf(module)]));

it('reads a graph of every module', () => {
  expect(graph.size).toBeGreaterThan(30);
  expect(graph.get('index.ts')!.length).toBeGreaterThan(20);
});

it('imports point down the layers, never across server/ and client/, never to the barrel', () => {
  const bad: string[] = [];
  for (const [from, targets] of graph) {
    const a = layerOf(from);
    for (const to of targets) {
      const b = layerOf(to);
      if (to === 'index.ts') bad.push(`${from} -> ${to} (the barrel is for users only)`);
      else if (b.rank > a.rank) bad.push(`${from} -> ${to} (points up: ${a.name} sits below ${b.name})`);
      else if (b.rank === a.rank && b.name !== a.name) bad.push(`${from} -> ${to} (across: ${a.name} and ${b.name} never import each other)`);
    }
  }
  expect(bad).toEqual([]);
});

it('has no import cycle', () => {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (module: string, trail: string[]): void => {
    if (state.get(module) === 'done') return;
    if (state.get(module) === 'open') {
      cycles.push([...trail.slice(trail.indexOf(module)), module].join(' -> '));
      return;
    }
    state.set(module, 'open');
    for (const next of graph.get(module)!) visit(next, [...trail, module]);
    state.set(module, 'done');
  };
  for (const module of graph.keys()) visit(module, []);
  expect(cycles).toEqual([]);
});

it(`keeps every module within ${MAX_LINES} lines`, () => {
  const long = [...graph.keys()]
    .map((module) => [module, fs.readFileSync(path.join(LIB, module), 'utf8').split('\n').length - 1] as const)
    .filter(([, lines]) => lines > MAX_LINES);
  expect(long).toEqual([]);
});

it('opens every module with a comment saying what it is', () => {
  // A bin entry starts with its #! line.
  const opening = (module: string) => fs.readFileSync(path.join(LIB, module), 'utf8').replace(/^#!.*\n/, '');
  const bare = [...graph.keys()].filter((module) => !opening(module).startsWith('//'));
  expect(bare).toEqual([]);
});
