import ts from 'typescript';

/**
 * The declarations an entry point exports, one block per export in name
 * order: what a user of the package can name. A type or interface is shown
 * as declared (so a new option field is a diff); a value by its type.
 */
export function apiReport(entryFile: string, tsconfigFile: string): string {
  const config = ts.getParsedCommandLineOfConfigFile(tsconfigFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error(`cannot read ${tsconfigFile}`);
  const program = ts.createProgram([entryFile], { ...config.options, noEmit: true, composite: false, declarationMap: false });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entryFile);
  if (!source) throw new Error(`cannot read ${entryFile}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) return '';
  const blocks: string[] = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol).sort((a, b) => a.name.localeCompare(b.name))) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    blocks.push(describe(exported.name, symbol, checker));
  }
  return blocks.join('\n\n') + '\n';
}

function describe(name: string, symbol: ts.Symbol, checker: ts.TypeChecker): string {
  const parts: string[] = [];
  for (const declaration of symbol.declarations ?? []) {
    if (ts.isInterfaceDeclaration(declaration) || ts.isTypeAliasDeclaration(declaration) || ts.isEnumDeclaration(declaration)) {
      parts.push(withoutComments(declaration));
    } else if (ts.isClassDeclaration(declaration)) {
      parts.push(`class ${name}: ${classShape(symbol, checker)}`);
    } else if (ts.isModuleDeclaration(declaration)) {
      continue;
    } else {
      const type = checker.getTypeOfSymbolAtLocation(symbol, declaration);
      const kind = ts.isFunctionDeclaration(declaration) ? 'function' : 'const';
      parts.push(`${kind} ${name}: ${checker.typeToString(type, declaration, ts.TypeFormatFlags.NoTruncation)}`);
      break; // overloads print once: the type lists them all
    }
  }
  return parts.join('\n').replace(/^export (declare )?/gm, '');
}

function classShape(symbol: ts.Symbol, checker: ts.TypeChecker): string {
  const members: string[] = [];
  for (const [memberName, member] of symbol.members ?? new Map<ts.__String, ts.Symbol>()) {
    const declaration = member.valueDeclaration ?? member.declarations?.[0];
    if (!declaration || isPrivate(declaration)) continue;
    if (ts.isConstructorDeclaration(declaration)) {
      members.push(
        `  constructor${checker.signatureToString(checker.getSignatureFromDeclaration(declaration)!, declaration, ts.TypeFormatFlags.NoTruncation)};`,
      );
      continue;
    }
    const type = checker.getTypeOfSymbolAtLocation(member, declaration);
    members.push(`  ${String(memberName)}: ${checker.typeToString(type, declaration, ts.TypeFormatFlags.NoTruncation)};`);
  }
  return `{\n${members.sort().join('\n')}\n}`;
}

function isPrivate(declaration: ts.Declaration): boolean {
  const flags = ts.getCombinedModifierFlags(declaration);
  return (
    (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0 ||
    (ts.isPropertyDeclaration(declaration) && ts.isPrivateIdentifier(declaration.name))
  );
}

/** The declaration's text without its doc comments, so rewording a comment is no API change. */
function withoutComments(node: ts.Node): string {
  const printer = ts.createPrinter({ removeComments: true });
  return printer.printNode(ts.EmitHint.Unspecified, node, node.getSourceFile());
}
