// Owns the connection to Twitch chat: IRC over TLS (or plain, for a local server), Twitch's tags and
// commands capabilities, the channel joined again after every reconnect.
// Transport: `ircv3`, the IRC client @twurple/chat is built on, because twurple's own ChatClient asks
// Twitch's HTTP API who the token belongs to before it logs in, so it cannot talk to any other server;
// messages are parsed by @twurple/chat's ChatMessage (badges, mod flag) as its ChatClient does.
import type { Logger } from '@irlkit/shared';
import { ChatMessage } from '@twurple/chat';
import { IrcClient } from 'ircv3';
import { type ChatLine, chatLineOf } from './chatter.ts';

export interface TwitchChatSettings {
  channel: string;
  bot: string;
  token: string;
  host: string;
  port: number;
  secure: boolean;
}

export class TwitchChat {
  private client: IrcClient | undefined;
  /** Lines said, and times (re)joined, for the heartbeat. */
  readonly counters = { said: 0, joins: 0, disconnects: 0 };

  constructor(
    private readonly settings: TwitchChatSettings,
    private readonly log: Logger,
    private readonly onLine: (line: ChatLine) => void,
  ) {}

  get joined(): boolean {
    return this.client?.isRegistered === true && this.client.currentChannels.includes(`#${this.settings.channel}`);
  }

  start(): void {
    const { channel, bot, token, host, port, secure } = this.settings;
    const client = new IrcClient({
      connection: { hostName: host, port, secure, reconnect: true, pingOnInactivity: 30, pingTimeout: 10 },
      credentials: { nick: bot, password: `oauth:${token}` },
      webSocket: false,
      channels: [`#${channel}`],
      rejoinChannelsOnReconnect: true,
      // Twitch's 004 does not follow the RFC; @twurple/chat's ChatClient says the same.
      nonConformingCommands: ['004'],
      logger: { minLevel: 'warning', custom: (level, message) => this.log.debug({ level }, message) },
    });
    client.registerMessageType(ChatMessage);
    client.addCapability({ name: 'twitch.tv/tags', usesTags: true });
    client.addCapability({ name: 'twitch.tv/commands' });
    client.onRegister(() => this.log.info({ host, port, channel }, 'chat connected'));
    client.onNamedMessage('JOIN', (message) => {
      if (message.prefix?.nick?.toLowerCase() !== bot) return;
      this.counters.joins += 1;
      this.log.info({ channel }, 'chat joined');
    });
    client.onDisconnect((manually, reason) => {
      if (manually) return;
      this.counters.disconnects += 1;
      this.log.warn({ reason: reason?.message }, 'chat disconnected; reconnecting');
    });
    client.onPasswordError((error) => this.log.error({ err: error.message }, 'Twitch refused the bot token (CHAT_TWITCH_TOKEN)'));
    client.onTypedMessage(ChatMessage, (message) => {
      if (message.target.toLowerCase() !== `#${channel}`) return;
      this.onLine(chatLineOf(message, channel));
    });
    this.client = client;
    client.connect();
  }

  say(text: string): void {
    if (!this.joined) return;
    this.client?.say(`#${this.settings.channel}`, text.slice(0, 450));
    this.counters.said += 1;
  }

  stop(): void {
    const client = this.client;
    this.client = undefined;
    if (client?.isConnected) client.quit('irlkit stopping');
    else client?.quitAbruptly();
  }
}
