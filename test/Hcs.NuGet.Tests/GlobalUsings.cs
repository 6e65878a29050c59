// Copyright (c) hcs contributors. Licensed under the MIT licence.

global using Xunit;
