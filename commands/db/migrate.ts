import {Flags} from '@oclif/core'
import {LocalCommand} from '../../src/cli/local-command.ts'
import {defaultDataDir} from '../../src/config/paths.ts'
import {migrateToPostgres, redactUrl} from '../../src/server/db-migrate.ts'

export default class DbMigrate extends LocalCommand {
  static override summary = 'Move a SQLite fleet into an empty PostgreSQL database, devices and all'
  static override description = `Copies every table of the data dir's margo.db — devices with their clientIds, certificates, labels and manifest versions, deployments, artifacts, status reports, rollouts, tokens, the audit log with its hash chain, sealed secrets, registries, join tokens, update windows — into an empty PostgreSQL database in one transaction, and checks each table's row count before committing. Devices keep working without onboarding again once margo serve runs with --database on the same data dir (its TLS material and secrets key stay where they are). margo serve must be stopped; a database that already holds margo data is refused.`
  static override examples = [
    '<%= config.bin %> db migrate --to postgres://margo@db.example:5432/margo --data-dir /var/lib/margo',
  ]
  static override flags = {
    to: Flags.string({description: 'The PostgreSQL database to move the fleet into (postgres://…); it must hold no margo data', required: true}),
    'data-dir': Flags.string({description: 'Data dir of the stopped margo serve whose margo.db to move', env: 'MARGO_DATA_DIR', default: defaultDataDir(), defaultHelp: async () => defaultDataDir()}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(DbMigrate)
    const summary = migrateToPostgres({dataDir: flags['data-dir'], to: flags.to})
    for (const note of summary.migrationNotes) process.stderr.write(`note: ${note}\n`)
    this.emit(flags, summary, (s, ctx) => ctx.tty
      ? `moved ${s.devices} device(s), ${s.deployments} deployment(s) and ${s.rows} row(s) in ${s.tables.length} tables from ${s.dataDir} to ${redactUrl(flags.to)} (${s.seconds.toFixed(1)} s); row counts match — start it with: margo serve --data-dir ${s.dataDir} --database <URL>`
      : s.tables.map(t => `${t.table}\t${t.rows}`).join('\n'))
  }
}
