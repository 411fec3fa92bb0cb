import {Args, Flags} from '@oclif/core'
import {LocalCommand} from '../src/cli/local-command.ts'
import {restoreBackup} from '../src/server/backup/restore.ts'
import {backupKey, backupKeyFlags} from './_backup-key.ts'

export default class Restore extends LocalCommand {
  static override summary = 'Restore a backup written by margo backup into an empty data dir, or an empty PostgreSQL database'
  static override description = `Decrypts the file (its authentication tag must hold), checks the database (PRAGMA integrity_check), and writes the data dir with its keys readable by the owner only. Every device's next manifest version is raised above anything the server could have issued since the backup, so devices take the restored server's desired state as an update, not as a rollback. With --database the fleet goes into that PostgreSQL database in one transaction (row counts checked) and the data dir receives the key files only; a backup from either engine restores onto either. A data dir that exists and is not empty is refused, and so is a database that holds any rows.`
  static override examples = [
    '<%= config.bin %> restore /srv/backups/margo-2027-01-15.mbk --data-dir /var/lib/margo --passphrase-file /etc/margo/backup-passphrase',
    '<%= config.bin %> restore /srv/backups/margo-2027-01-15.mbk --data-dir /var/lib/margo --database postgres://margo:secret@db.example:5432/margo --key-file /etc/margo/backup.key',
  ]
  static override args = {file: Args.string({description: 'the backup file', required: true})}
  static override flags = {
    'data-dir': Flags.string({description: 'Data dir to restore into: must not exist, or be empty', env: 'MARGO_DATA_DIR', required: true}),
    database: Flags.string({description: 'Restore the fleet into this empty PostgreSQL database (postgres://…) instead of SQLite in the data dir', env: 'MARGO_DATABASE_URL'}),
    ...backupKeyFlags,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Restore)
    const summary = restoreBackup({file: args.file, dataDir: flags['data-dir'], ...(flags.database ? {database: flags.database} : {}), key: await backupKey(flags, false)})
    for (const note of summary.migrationNotes) process.stderr.write(`note: ${note}\n`)
    this.emit(flags, summary, (s, ctx) => ctx.tty
      ? `restored ${s.devices} device(s) and ${s.deployments} deployment(s) from the backup of ${s.backupCreatedAt} into ${s.engine === 'postgres' ? `${s.database} and ${s.dataDir}` : s.dataDir} (${s.seconds.toFixed(1)} s); ${s.reannounced} manifest(s) re-issued from version ${s.manifestVersionFloor} — start it with: margo serve --data-dir ${s.dataDir}${s.engine === 'postgres' ? ' --database <URL>' : ''}`
      : `${s.dataDir}\t${s.devices}\t${s.deployments}\t${s.reannounced}\t${s.manifestVersionFloor}`)
  }
}
