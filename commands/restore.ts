import {Args, Flags} from '@oclif/core'
import {LocalCommand} from '../src/cli/local-command.ts'
import {restoreBackup} from '../src/server/backup/restore.ts'
import {backupKey, backupKeyFlags} from './_backup-key.ts'

export default class Restore extends LocalCommand {
  static override summary = 'Restore a backup written by margo backup into an empty data dir'
  static override description = `Decrypts the file (its authentication tag must hold), checks the database (PRAGMA integrity_check), and writes the data dir with its keys readable by the owner only. Every device's next manifest version is raised above anything the server could have issued since the backup, so devices take the restored server's desired state as an update, not as a rollback. A data dir that exists and is not empty is refused.`
  static override examples = [
    '<%= config.bin %> restore /srv/backups/margo-2027-01-15.mbk --data-dir /var/lib/margo --passphrase-file /etc/margo/backup-passphrase',
  ]
  static override args = {file: Args.string({description: 'the backup file', required: true})}
  static override flags = {
    'data-dir': Flags.string({description: 'Data dir to restore into: must not exist, or be empty', env: 'MARGO_DATA_DIR', required: true}),
    ...backupKeyFlags,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Restore)
    const summary = restoreBackup({file: args.file, dataDir: flags['data-dir'], key: await backupKey(flags, false)})
    for (const note of summary.migrationNotes) process.stderr.write(`note: ${note}\n`)
    this.emit(flags, summary, (s, ctx) => ctx.tty
      ? `restored ${s.devices} device(s) and ${s.deployments} deployment(s) from the backup of ${s.backupCreatedAt} into ${s.dataDir} (${s.seconds.toFixed(1)} s); ${s.reannounced} manifest(s) re-issued from version ${s.manifestVersionFloor} — start it with: margo serve --data-dir ${s.dataDir}`
      : `${s.dataDir}\t${s.devices}\t${s.deployments}\t${s.reannounced}\t${s.manifestVersionFloor}`)
  }
}
