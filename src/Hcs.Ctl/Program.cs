// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Ctl;

// hcsctl: HcsCtl on this process's console, connecting the way every hcs client does.
return await HcsCtl.RunOnConsoleAsync(args, options => HcsClient.Connect(options)).ConfigureAwait(false);
