// A serve process reduced to its controllers' election, for postgres-signals.test.ts: it takes
// the lead on DATABASE_URL's SCHEMA, says so on stdout, and keeps it until it is stopped or frozen.
import {runAsSingleton} from '../../../src/server/cluster/lease.ts'
import {Store} from '../../../src/server/store/store.ts'
import {createLogger} from '../../../src/util/log.ts'

const [url, schema] = process.argv.slice(2)
const store = new Store(url!, {schema})
runAsSingleton({db: store.db, name: 'controllers', holder: 'frozen', log: createLogger({level: 'error', format: 'json'}), start: () => {
  process.stdout.write('leading\n')
  return () => {}
}})
