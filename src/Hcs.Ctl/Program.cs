// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Ctl;
using Hcs.Host;

// hcsctl: HcsCtl on this process's console, connecting the way every hcs client does (hcsctl can embed: --embedded).
return await HcsCtl.RunOnConsoleAsync(args, options => EmbeddedHcs.Connect(options)).ConfigureAwait(false);
