import {Args, Command, loadHelpClass} from '@oclif/core'

/**
 * `clusterctl help [COMMAND...]`: the same help as `clusterctl COMMAND --help`
 * (`clusterctl help scale`, `clusterctl help node drain`).
 */
export default class HelpCommand extends Command {
  static override summary = 'Show help for clusterctl, a topic or a command (the same as COMMAND --help).'
  static override examples = ['<%= config.bin %> help scale', '<%= config.bin %> help node drain', '<%= config.bin %> help node']
  static override strict = false
  static override args = {command: Args.string({description: 'Command or topic, words separated by spaces.', required: false})}

  public async run(): Promise<void> {
    const {argv} = await this.parse(HelpCommand)
    const Help = await loadHelpClass(this.config)
    await new Help(this.config).showHelp(argv as string[])
  }
}
