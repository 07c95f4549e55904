<?xml version="1.0" encoding="UTF-8"?>
<!--
  Siaran's feed stylesheet: a person who opens a podcast feed in a browser sees a readable page
  (in Indonesian, with the essentials in English) instead of raw XML. Feeds reference it with
  <?xml-stylesheet type="text/xsl" href="siaran.xsl"?>; Siaran serves it at /feeds/siaran.xsl,
  and its styles, feeds/siaran.css, next to it (the feed's page allows no inline style or script).

  XSLT 1.0, the version browsers run. Podcast apps ignore the reference.
  HTML5 elements without an end tag (source, track, wbr) are avoided: XSLT 1.0's HTML output
  does not know them and would write an end tag, which HTML forbids.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
    xmlns:podcast="https://podcastindex.org/namespace/1.0"
    exclude-result-prefixes="atom itunes podcast">

  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:variable name="channel" select="/rss/channel"/>
  <xsl:variable name="feed-url" select="$channel/atom:link[@rel='self']/@href"/>
  <xsl:variable name="cover">
    <xsl:choose>
      <xsl:when test="$channel/itunes:image/@href">
        <xsl:value-of select="$channel/itunes:image/@href"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:value-of select="$channel/image/url"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:variable>

  <xsl:template match="/">
    <html>
      <xsl:attribute name="lang">
        <xsl:choose>
          <xsl:when test="string($channel/language)">
            <xsl:value-of select="$channel/language"/>
          </xsl:when>
          <xsl:otherwise>id</xsl:otherwise>
        </xsl:choose>
      </xsl:attribute>
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="robots" content="noindex"/>
        <meta name="color-scheme" content="light dark"/>
        <title><xsl:value-of select="$channel/title"/> · Umpan podcast</title>
        <link rel="stylesheet" href="siaran.css"/>
      </head>
      <body>
        <main>
          <aside class="about">
            <p><strong>Ini adalah umpan (feed) podcast.</strong>
              Salin alamatnya ke aplikasi podcast Anda (Apple Podcasts, Spotify, AntennaPod,
              Pocket Casts dan lainnya) untuk berlangganan dan menerima setiap episode baru.</p>
            <p class="en" lang="en">This is a podcast feed: copy its address into your podcast
              app to subscribe.</p>
            <input type="text" readonly="readonly" aria-label="Alamat umpan / Feed address"
                value="{$feed-url}"/>
          </aside>

          <header class="show">
            <xsl:if test="string($cover)">
              <img src="{$cover}" alt="Sampul {$channel/title}" width="144" height="144"/>
            </xsl:if>
            <div>
              <h1><xsl:value-of select="$channel/title"/></h1>
              <xsl:if test="string($channel/itunes:author)">
                <p class="author"><xsl:value-of select="$channel/itunes:author"/></p>
              </xsl:if>
              <p class="description"><xsl:value-of select="$channel/description"/></p>
            </div>
          </header>

          <section>
            <h2>Episode (<xsl:value-of select="count($channel/item)"/>)</h2>
            <xsl:if test="not($channel/item)">
              <p>Belum ada episode yang terbit. <span lang="en">(No episodes yet.)</span></p>
            </xsl:if>
            <xsl:apply-templates select="$channel/item"/>
          </section>

          <footer>Diterbitkan dengan Siaran.</footer>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <article>
      <h3><xsl:value-of select="title"/></h3>
      <p class="meta">
        <xsl:if test="string(pubDate)">
          <time>
            <xsl:attribute name="datetime">
              <xsl:call-template name="iso-date">
                <xsl:with-param name="date" select="pubDate"/>
              </xsl:call-template>
            </xsl:attribute>
            <xsl:call-template name="tanggal">
              <xsl:with-param name="date" select="pubDate"/>
            </xsl:call-template>
          </time>
        </xsl:if>
        <xsl:if test="string(itunes:duration)">
          <xsl:text> · Durasi </xsl:text>
          <xsl:call-template name="duration">
            <xsl:with-param name="value" select="normalize-space(itunes:duration)"/>
          </xsl:call-template>
        </xsl:if>
      </p>
      <xsl:choose>
        <xsl:when test="starts-with(enclosure/@type, 'video/')">
          <video controls="controls" preload="none" src="{enclosure/@url}"
              aria-label="Putar: {title}"></video>
        </xsl:when>
        <xsl:when test="enclosure/@url">
          <audio controls="controls" preload="none" src="{enclosure/@url}"
              aria-label="Putar: {title}"></audio>
        </xsl:when>
      </xsl:choose>
      <xsl:if test="string(description)">
        <p class="description"><xsl:value-of select="description"/></p>
      </xsl:if>
    </article>
  </xsl:template>

  <!-- RSS dates as Siaran writes them: "Mon, 03 Mar 2025 02:00:00 +0000". -->
  <xsl:template name="tanggal">
    <xsl:param name="date"/>
    <xsl:value-of select="number(substring($date, 6, 2))"/>
    <xsl:text> </xsl:text>
    <xsl:call-template name="month">
      <xsl:with-param name="abbr" select="substring($date, 9, 3)"/>
      <xsl:with-param name="as">name</xsl:with-param>
    </xsl:call-template>
    <xsl:text> </xsl:text>
    <xsl:value-of select="substring($date, 13, 4)"/>
  </xsl:template>

  <xsl:template name="iso-date">
    <xsl:param name="date"/>
    <xsl:value-of select="substring($date, 13, 4)"/>
    <xsl:text>-</xsl:text>
    <xsl:call-template name="month">
      <xsl:with-param name="abbr" select="substring($date, 9, 3)"/>
      <xsl:with-param name="as">number</xsl:with-param>
    </xsl:call-template>
    <xsl:text>-</xsl:text>
    <xsl:value-of select="substring($date, 6, 2)"/>
  </xsl:template>

  <xsl:template name="month">
    <xsl:param name="abbr"/>
    <xsl:param name="as"/>
    <xsl:variable name="i" select="(string-length(substring-before('JanFebMarAprMayJunJulAugSepOctNovDec', $abbr)) div 3) + 1"/>
    <xsl:choose>
      <xsl:when test="$as = 'number'"><xsl:value-of select="format-number($i, '00')"/></xsl:when>
      <xsl:when test="$i = 1">Januari</xsl:when>
      <xsl:when test="$i = 2">Februari</xsl:when>
      <xsl:when test="$i = 3">Maret</xsl:when>
      <xsl:when test="$i = 4">April</xsl:when>
      <xsl:when test="$i = 5">Mei</xsl:when>
      <xsl:when test="$i = 6">Juni</xsl:when>
      <xsl:when test="$i = 7">Juli</xsl:when>
      <xsl:when test="$i = 8">Agustus</xsl:when>
      <xsl:when test="$i = 9">September</xsl:when>
      <xsl:when test="$i = 10">Oktober</xsl:when>
      <xsl:when test="$i = 11">November</xsl:when>
      <xsl:otherwise>Desember</xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- Whole seconds (as Siaran writes them) as H:MM:SS or M:SS; anything else as it is. -->
  <xsl:template name="duration">
    <xsl:param name="value"/>
    <xsl:choose>
      <xsl:when test="contains($value, ':') or string(number($value)) = 'NaN'">
        <xsl:value-of select="$value"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:variable name="s" select="floor(number($value))"/>
        <xsl:variable name="h" select="floor($s div 3600)"/>
        <xsl:choose>
          <xsl:when test="$h &gt; 0">
            <xsl:value-of select="concat($h, ':', format-number(floor(($s mod 3600) div 60), '00'), ':', format-number($s mod 60, '00'))"/>
          </xsl:when>
          <xsl:otherwise>
            <xsl:value-of select="concat(floor($s div 60), ':', format-number($s mod 60, '00'))"/>
          </xsl:otherwise>
        </xsl:choose>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
