import {Args, Flags} from '@oclif/core'
import pjson from '../package.json' with {type: 'json'}
import {LocalCommand} from '../src/cli/local-command.ts'
import {defaultDataDir} from '../src/config/paths.ts'
import {createBackup} from '../src/server/backup/backup.ts'
import {checkNewPassphrase} from '../src/server/backup/key-source.ts'
import {backupKey, backupKeyFlags} from './_backup-key.ts'

export default class Backup extends LocalCommand {
  static override summary = 'Write an encrypted, consistent backup of a fleet, while margo serve runs or not'
  static override description = `One file holds a snapshot of the database and the data dir's CA, server key pair, operator token and secrets key, encrypted with AES-256-GCM under a passphrase (scrypt) or a key file. The snapshot is consistent while any number of serve processes or nodes keep writing: SQLite's VACUUM INTO of the data dir's database, or with --database one read-only REPEATABLE READ transaction over every table of the PostgreSQL database, written as a SQLite database of margo's schema either way. The file is written atomically with mode 0600. Restore it with margo restore into an empty data dir, or an empty PostgreSQL database, whichever engine it came from; devices keep working with the restored server (see docs/operations.md, "Backup and restore").`
  static override examples = [
    '<%= config.bin %> backup /srv/backups/margo-$(date +%F).mbk --passphrase-file /etc/margo/backup-passphrase',
    '<%= config.bin %> backup margo.mbk --key-file /etc/margo/backup.key --data-dir /var/lib/margo',
    'MARGO_DATABASE_URL=postgres://margo:secret@db.example:5432/margo <%= config.bin %> backup margo.mbk --key-file /etc/margo/backup.key',
  ]
  static override args = {file: Args.string({description: 'the backup file to write', required: true})}
  static override flags = {
    'data-dir': Flags.string({description: 'Data dir of the margo serve to back up (its key files, and its database unless --database)', env: 'MARGO_DATA_DIR', default: defaultDataDir(), defaultHelp: async () => defaultDataDir()}),
    database: Flags.string({description: 'PostgreSQL URL of the database margo serve runs on (postgres://…); default: SQLite in the data dir', env: 'MARGO_DATABASE_URL'}),
    'secret-key-file': Flags.string({description: 'The secrets key, when margo serve runs with --secret-key-file outside the data dir', env: 'MARGO_SECRET_KEY_FILE'}),
    ...backupKeyFlags,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Backup)
    const key = checkNewPassphrase(await backupKey(flags, true))
    const summary = createBackup({dataDir: flags['data-dir'], ...(flags.database ? {database: flags.database} : {}), file: args.file, key, secretKeyFile: flags['secret-key-file'], margoVersion: pjson.version})
    this.emit(flags, summary, (s, ctx) => ctx.tty
      ? `backed up ${s.devices} device(s) and ${s.deployments} deployment(s) to ${s.file} (${s.bytes} bytes, ${s.files.length} files, ${s.seconds.toFixed(1)} s)`
      : `${s.file}\t${s.bytes}\t${s.devices}\t${s.deployments}`)
  }
}
