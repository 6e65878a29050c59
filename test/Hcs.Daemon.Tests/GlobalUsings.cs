// Copyright (c) hcs contributors. Licensed under the MIT licence.

global using Hcs.Backends.Fake;
global using Hcs.Engine;
global using Hcs.Schema;
global using Xunit;
global using static Hcs.Client.ComputeCore;
