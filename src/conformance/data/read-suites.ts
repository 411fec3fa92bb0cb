import {existsSync, readFileSync, readdirSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'

/** The Margo conformance material the commands use, relative to `<shared>/conformance`. */
export const SUITE_FILES = [
  'conformance/testcases/wfm-core/postman_collection.json',
  'conformance/Data-Generator/wfm-supplier/groups/core/group.json',
  'conformance/device-supplier/device-scenarios/test-scenarios.json',
  'conformance/device-supplier/manifests/assertions.json',
  'conformance/device-supplier/manifests/deployment-template-app-a.yaml',
  'conformance/device-supplier/manifests/deployment-template-app-b.yaml',
  'conformance/device-supplier/sample-apps/app-a/compose.yaml',
  'conformance/device-supplier/sample-apps/app-b/compose.yaml',
  'conformance-2/Data-Generator/device-supplier/assertions.json',
  'conformance-2/Data-Generator/wfm-supplier/postman_collection.json',
  'conformance-2/wfm-supplier/newman-data/device-agent.env.json',
  'conformance-2/wfm-supplier/newman-data/certs/device-cert.pem',
  'conformance-2/wfm-supplier/newman-data/certs/device.key',
  'conformance-backups/20260730-105143-pre-history-rewrite/conformance-update/Data-Generator/device-supplier/deployment-template.yaml',
] as const

/**
 * Read the suites from the reference checkout beside the project (`../shared/conformance`),
 * or from MARGO_CONFORMANCE_DIR. Imported as a bundle-time macro by `./index.ts`, so a compiled
 * binary carries the files and works on any machine; null when the material is not there at
 * build time.
 */
export function readSuites(): {source: string, files: Record<string, string>} | null {
  const root = process.env.MARGO_CONFORMANCE_DIR ?? join(import.meta.dir, '../../../../shared/conformance')
  if (!existsSync(root)) return null
  const files: Record<string, string> = {}
  for (const file of SUITE_FILES) {
    const path = join(root, file)
    if (existsSync(path)) files[file] = readFileSync(path, 'utf8')
  }
  // Certificates of the device-supplier suite (public test fixtures).
  const certs = join(root, 'conformance/device-supplier/certs')
  if (existsSync(certs)) {
    for (const name of readdirSync(certs)) {
      const path = join(certs, name)
      if (statSync(path).isFile()) files[relative(root, path)] = readFileSync(path, 'utf8')
    }
  }
  return {source: root, files}
}
