import diagnostics from 'node:diagnostics_channel';

/** One node:diagnostics_channel per name, under the same keys: `openChannels({ sent: 'nestjs-convoy:sent' }).sent`. */
export function openChannels<const T extends Record<string, string>>(
  names: T,
): { [K in keyof T]: diagnostics.Channel } {
  return Object.fromEntries(Object.entries(names).map(([key, name]) => [key, diagnostics.channel(name)])) as {
    [K in keyof T]: diagnostics.Channel;
  };
}
