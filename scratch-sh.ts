import sharp from "sharp";
const t = Date.now();
const png = await sharp({ create: { width: 20000, height: 20000, channels: 3, background: { r: 10, g: 200, b: 30 } }, limitInputPixels: false }).png({ compressionLevel: 9 }).toBuffer();
console.log("bomb bytes", png.length, Date.now() - t);
try { const m = await sharp(png, { limitInputPixels: 100_000_000 }).metadata(); console.log("meta ok", m.width, m.height); } catch (e) { console.log("meta err", (e as Error).message); }
try { const m = await sharp(png, { limitInputPixels: 1000 }).metadata(); console.log("meta ok", m.width); } catch (e) { console.log("meta err2", (e as Error).message); }
try { const m = await sharp(Buffer.from("garbage"), { limitInputPixels: 1000 }).metadata(); console.log("meta ok", m.width); } catch (e) { console.log("meta err3", (e as Error).message); }
