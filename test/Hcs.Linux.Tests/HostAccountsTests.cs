// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Xunit;

namespace Hcs.Linux.Tests;

/// <summary><see cref="HostAccounts"/> against this host's name service switch (root exists on every Linux host).</summary>
public sealed class HostAccountsTests
{
    [Fact]
    public void Users_AreFoundByNameAndById()
    {
        var root = HostAccounts.UserByName("root");
        Assert.NotNull(root);
        Assert.Equal(0u, root.Uid);
        Assert.Equal(0u, root.Gid);
        Assert.Equal("/root", root.Home);
        Assert.Equal(root, HostAccounts.UserById(0));
    }

    [Fact]
    public void Groups_AreFoundByNameAndById()
    {
        Assert.Equal(new HostGroup("root", 0), HostAccounts.GroupByName("root"));
        Assert.Equal(new HostGroup("root", 0), HostAccounts.GroupById(0));
    }

    [Fact]
    public void WhatDoesNotExist_IsNull()
    {
        Assert.Null(HostAccounts.UserByName("no-such-user-here"));
        Assert.Null(HostAccounts.GroupByName("no-such-group-here"));
        Assert.Null(HostAccounts.UserById(4_000_000_001));
        Assert.Null(HostAccounts.GroupById(4_000_000_001));
    }

    [Fact]
    public void AnswersMatchTheSystemsOwnLookup()
    {
        // The files source of NSS: every user in /etc/passwd is found with the same uid.
        var listed = File.ReadAllLines("/etc/passwd").Select(l => l.Split(':')).Where(f => f.Length > 3).Take(20).ToList();
        Assert.NotEmpty(listed);
        Assert.All(listed, f => Assert.Equal(uint.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture), HostAccounts.UserByName(f[0])?.Uid));
    }
}
