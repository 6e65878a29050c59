// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Hcs.Schema.Tests")]
