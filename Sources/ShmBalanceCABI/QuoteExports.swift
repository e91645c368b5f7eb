import CShmBalance
import ShmBalance

// The seed's ShareMemorySingleQuote: one quote per (exchange, data type, currency).

@_cdecl("shmbal_quote_write")
public func cQuoteWrite(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ dataType: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?,
                        _ quote: UnsafePointer<shmbal_quote>?) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try quoteKey(ex, dataType, cur)
            guard let q = quote?.pointee else { throw .null("a quote") }
            let value = SingleQuote(timestamp: q.timestamp, localTimestamp: q.local_timestamp, mid: q.mid)
            try core { () throws(BooksError) in try b.writeQuote(key, value) }
        }
    }
}

@_cdecl("shmbal_quote_get")
public func cQuoteGet(_ h: shmbal_books, _ ex: UnsafePointer<CChar>?, _ dataType: UnsafePointer<CChar>?, _ cur: UnsafePointer<CChar>?,
                      _ out: UnsafeMutablePointer<shmbal_quote>?) -> Int32 {
    run { () throws(ABIFailure) in
        try handles.withBooks(h.id) { (b) throws(ABIFailure) in
            let key = try quoteKey(ex, dataType, cur)
            guard let out else { throw .null("a quote to fill") }
            guard let q = try core({ () throws(BooksError) in try b.quote(key) }) else {
                throw ABIFailure(SHMBAL_NOT_FOUND, "\(key): no quote has been written")
            }
            out.pointee = shmbal_quote(timestamp: q.timestamp, local_timestamp: q.localTimestamp, mid: q.mid)
        }
    }
}
