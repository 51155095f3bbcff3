// The public surface, frozen: API Extractor writes one report per package.json entry point into etc/
// (skalds.api.md, skalds-bus.api.md, skalds-bus-kafka.api.md, …). `npm run api:check` (run by `npm run lint`) fails
// when a report differs from the code; `npm run api:update` rewrites the reports, to be committed with the change.
// It also fails when an exported signature uses a type that no entry point exports (a user could not name it), and
// when two entry points export different declarations under one name (a user importing both would clash).
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'
import { CompilerState, Extractor, ExtractorConfig, ExtractorLogLevel, ExtractorMessageCategory, type ExtractorMessage } from '@microsoft/api-extractor'
import ts from 'typescript'

const root = join(import.meta.dirname, '..')
const update = process.argv.includes('--update')
// Inside the project (its node_modules resolve the drivers' types) but not under node_modules (API Extractor would
// take every module there for an external package); tmp/ is git- and lint-ignored scratch.
const work = join(root, 'tmp', 'api')
const dts = join(work, 'dts')
const started = Date.now()

// 1. Declarations only, by the compiler the build uses (unchecked: `npm run typecheck` checks the same sources).
rmSync(work, { recursive: true, force: true })
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript-7', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--emitDeclarationOnly', '--noCheck', '--declarationMap', 'false', '--sourceMap', 'false', '--outDir', dts], {
  cwd: root,
  stdio: 'inherit',
})

// 2. The entry points: every subpath of package.json "exports" with types.
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; exports: Record<string, string | { types?: string }> }
const entries = Object.entries(pkg.exports).flatMap(([subpath, target]) => {
  if (typeof target === 'string' || target.types === undefined) return []
  const file = join(dts, relative('dist', target.types))
  if (!existsSync(file)) throw new Error(`package.json exports ${subpath}: ${target.types} is not emitted from src/`)
  return [{ subpath, file, report: subpath === '.' ? pkg.name : `${pkg.name}-${subpath.slice(2).replaceAll('/', '-')}` }]
})

// 3. What each entry point exports, by name and declaration.
const program = ts.createProgram(entries.map((e) => e.file), { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: ['node'], skipLibCheck: true, noEmit: true })
const checker = program.getTypeChecker()
const exported = new Map<string, Map<string, string[]>>() // name → declaration → entry points
for (const entry of entries) {
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry.file)!)!
  for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
    const declaration = target.declarations?.[0]
    const id = declaration ? `${relative(dts, declaration.getSourceFile().fileName)}:${declaration.pos}` : symbol.name
    const byDeclaration = exported.get(symbol.name) ?? new Map<string, string[]>()
    byDeclaration.set(id, [...(byDeclaration.get(id) ?? []), entry.subpath])
    exported.set(symbol.name, byDeclaration)
  }
}
// Declarations a public signature may mention without an entry point exporting them: constructor and resolved-option
// types of classes the library builds itself, marked `@internal` where they are declared.
const internal = new Set<string>()
for (const file of program.getSourceFiles()) {
  if (!file.fileName.startsWith(dts)) continue
  for (const statement of file.statements) {
    const names = ts.isVariableStatement(statement) ? statement.declarationList.declarations.map((d) => d.name) : [(statement as ts.DeclarationStatement).name]
    if (!ts.getJSDocTags(statement).some((tag) => tag.tagName.text === 'internal')) continue
    for (const name of names) if (name && ts.isIdentifier(name)) internal.add(name.text)
  }
}

const problems: string[] = []
for (const [name, byDeclaration] of exported) {
  if (byDeclaration.size > 1) problems.push(`${name}: exported as different declarations by ${[...byDeclaration.values()].flat().join(', ')}`)
}

// 4. One report per entry point, over one shared compiler program.
const configFile = join(root, 'api-extractor.json')
const base = ExtractorConfig.loadFile(configFile)
const configFor = (entry: (typeof entries)[number]): ExtractorConfig =>
  ExtractorConfig.prepare({
    configObject: { ...base, mainEntryPointFilePath: entry.file, apiReport: { ...base.apiReport!, reportFileName: entry.report } },
    configObjectFullPath: configFile,
    packageJsonFullPath: join(root, 'package.json'),
  })
// skipLibCheck as in tsconfig.json (checking the drivers' own .d.ts fails on their missing @types); API Extractor
// prints a notice about it on every run, which would only be noise in `npm run lint`.
const log = console.log
console.log = (...args: unknown[]) => {
  if (!String(args[0]).includes('skipLibCheck')) log(...args)
}
const compilerState = CompilerState.create(configFor(entries[0]!), { additionalEntryPoints: entries.map((e) => e.file) })
console.log = log
const changed: string[] = []
for (const entry of entries) {
  const result = Extractor.invoke(configFor(entry), {
    localBuild: update,
    compilerState,
    messageCallback: (message: ExtractorMessage) => {
      if (message.messageId === 'ae-forgotten-export') {
        const name = /The symbol "([^"]+)"/.exec(message.text)?.[1]
        message.handled = true
        if (name === undefined || !(exported.has(name) || internal.has(name))) {
          problems.push(`${entry.subpath}: ${message.text} (no entry point exports it, and it is not marked @internal)`)
        }
        return
      }
      message.handled = true
      // The run's own notices (report written, compiler version, skipLibCheck) are summed up below instead.
      if (message.category === ExtractorMessageCategory.Console && message.logLevel !== ExtractorLogLevel.Error) return
      if (message.logLevel === ExtractorLogLevel.Error || message.logLevel === ExtractorLogLevel.Warning) {
        problems.push(`${entry.subpath}: ${message.formatMessageWithLocation(root)}`)
      }
    },
  })
  if (result.apiReportChanged) changed.push(`etc/${entry.report}.api.md`)
}
rmSync(work, { recursive: true, force: true })

for (const problem of problems) console.error(`api: ${problem}`)
const seconds = ((Date.now() - started) / 1000).toFixed(1)
if (changed.length > 0) {
  console.error(`api: ${update ? 'updated' : 'the public surface changed'}: ${changed.join(', ')}`)
  if (!update) console.error('api: review the change; if it is meant, run `npm run api:update` and commit etc/')
}
if (problems.length > 0 || (changed.length > 0 && !update)) process.exitCode = 1
else console.log(`api: ${entries.length} entry points ${update ? 'written to' : 'match'} etc/ (${seconds} s)`)
